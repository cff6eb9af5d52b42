namespace Moat.Tests.Images.Registry;

/// <summary>How a test registry is reached and authenticated.</summary>
public enum RegistryMode { PlainHttp, TlsBasicAuth, TokenAuth }

/// <summary>
/// One Debian `docker-registry serve CONFIG.yml` on 127.0.0.1, storage in a temp directory. It can be killed and
/// started again on the same port and storage (the resume tests do).
/// </summary>
public sealed class RegistryServer : IDisposable
{
    public const string Program = "/usr/bin/docker-registry";
    readonly string configPath;
    Tool.Background? process;

    public RegistryMode Mode { get; }
    /// <summary>The registry speaks https (with client certificates required).</summary>
    public bool UsesTls { get; }
    public int Port { get; }
    /// <summary>`127.0.0.1:PORT`, as a reference names it.</summary>
    public string Host => $"127.0.0.1:{Port}";
    public string Directory { get; }
    public string StorageDirectory => Path.Combine(Directory, "storage");

    internal RegistryServer(RegistryMode mode, string directory, string authAndTlsYaml, bool tls)
    {
        Mode = mode;
        UsesTls = tls;
        Directory = directory;
        Port = Tool.FreePort();
        System.IO.Directory.CreateDirectory(StorageDirectory);
        configPath = Path.Combine(directory, "config.yml");
        File.WriteAllText(configPath, $"""
            version: 0.1
            log:
              level: warn
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {StorageDirectory}
              delete:
                enabled: true
              maintenance:
                uploadpurging:
                  enabled: false
            http:
              addr: 127.0.0.1:{Port}
              secret: moat-test-secret
            {authAndTlsYaml}
            """);
        Start();
    }

    /// <summary>Starts the registry and waits until it listens.</summary>
    public void Start()
    {
        if (!File.Exists(Program)) throw new InvalidOperationException($"{Program} is missing: install Debian's docker-registry package");
        process?.Dispose();
        process = new Tool.Background(Program, "serve", configPath);
        // Ready once it accepts connections (an HTTP probe would need the client certificate of the TLS one).
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"docker-registry on port {Port} exited at start: {process.Output}");
            if (DateTime.UtcNow > deadline)
            {
                // Not left running behind a failed fixture.
                process.Kill();
                throw new TimeoutException($"docker-registry on port {Port} did not listen in 30 s: {process.Output}");
            }
            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                probe.Connect(System.Net.IPAddress.Loopback, Port);
                return;
            }
            catch (System.Net.Sockets.SocketException) { Thread.Sleep(20); }
        }
    }

    /// <summary>SIGKILL: open connections break mid-transfer.</summary>
    public void Kill() => process?.Kill();

    public string Output => process?.Output ?? "";

    /// <summary>The file holding a blob in the registry's storage (for tests that corrupt it).</summary>
    public string BlobDataPath(Moat.Images.Model.Digest digest) =>
        Path.Combine(StorageDirectory, "docker", "registry", "v2", "blobs", digest.Algorithm, digest.Hex[..2], digest.Hex, "data");

    public void Dispose() => process?.Dispose();
}
