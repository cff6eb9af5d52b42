using System.Text;
using System.Text.Json;
using Moat.Images.Model;
using Xunit;

namespace Moat.Tests.Images.Model;

/// <summary>ImageConfigReader against the source-generated serializer it stands in for on the run path.</summary>
public sealed class ImageConfigReaderTests
{
    public static TheoryData<string> Documents() => new()
    {
        // docker's busybox config, as Docker Hub serves it (nanosecond times, ArgsEscaped, OnBuild, container_config).
        """
        {"architecture":"amd64","config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"Tty":false,"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"],"ArgsEscaped":true,"Image":"sha256:3b","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"container":"ab","container_config":{"Cmd":["/bin/sh","-c","#(nop) ","CMD [\"sh\"]"]},"created":"2023-07-18T23:19:33.655005962Z","docker_version":"20.10.23","history":[{"created":"2023-07-18T23:19:33.538571854Z","created_by":"/bin/sh -c #(nop) ADD file:7e in / "},{"created":"2023-07-18T23:19:33.655005962Z","created_by":"/bin/sh -c #(nop)  CMD [\"sh\"]","empty_layer":true}],"os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:3d24ee258efc3bfe4066a1a9fb83febf6dc0b1548dfe896161533668281c9f4f"]}}
        """,
        // An OCI config with everything the model has, ports, volumes, labels, a health check and a variant.
        """
        {"created":"2026-12-03T09:51:12.5+01:00","author":"moat <moat@example>","architecture":"arm64","os":"linux","os.version":"10.0","variant":"v8","config":{"User":"1000:1000","ExposedPorts":{"80/tcp":{},"53/udp":{"future":1}},"Env":["A=1","B=\u00fc"],"Entrypoint":["/init"],"Cmd":null,"Volumes":{"/data":{}},"WorkingDir":"/srv","Labels":{"org.opencontainers.image.title":"x","empty":""},"StopSignal":"SIGQUIT","ArgsEscaped":false,"Healthcheck":{"Test":["CMD-SHELL","curl -f http://localhost/"],"Interval":30000000000,"Timeout":5000000000,"StartPeriod":0,"Retries":3,"StartInterval":1}},"rootfs":{"type":"layers","diff_ids":[]},"history":[{"comment":"buildkit","author":"a","empty_layer":false}]}
        """,
        // Minimal, nulls where the model allows them, unknown properties at every level.
        """{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:00"],"x":[1,2]},"config":null,"history":null,"created":null,"unknown":{"a":{"b":[null]}}}""",
        """{"rootfs":{"diff_ids":["sha256:11",null]},"history":[null,{"created":null}],"config":{"Env":["X",null],"Healthcheck":null,"ArgsEscaped":null}}""",
        """{}""",
        """null""",
        """{"architecture":null,"os":null,"rootfs":null}""",
    };

    static string Normal(ImageConfig? config) => JsonSerializer.Serialize(config, ImageJsonContext.Default.ImageConfig);

    [Theory]
    [MemberData(nameof(Documents))]
    public void ReadsAsTheSerializerReads(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        Assert.Equal(Normal(JsonSerializer.Deserialize(bytes, ImageJsonContext.Default.ImageConfig)), Normal(ImageConfigReader.Read(bytes)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("{\"os\":\"linux\"} {}")]
    [InlineData("{\"os\":")]
    [InlineData("{\"os\":1}")]
    [InlineData("{\"created\":\"yesterday\"}")]
    [InlineData("{\"config\":{\"ExposedPorts\":{\"80/tcp\":\"open\"}}}")]
    [InlineData("{\"config\":{\"Healthcheck\":{\"Interval\":1.5}}}")]
    [InlineData("{\"history\":[{\"empty_layer\":\"yes\"}]}")]
    [InlineData("{\"rootfs\":{\"diff_ids\":\"sha256:00\"}}")]
    [InlineData("{/* a comment */}")]
    public void RefusesWhatTheSerializerRefuses(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize(bytes, ImageJsonContext.Default.ImageConfig));
        Assert.ThrowsAny<JsonException>(() => ImageConfigReader.Read(bytes));
    }
}
