using System.CommandLine;
using System.Text;
using Moat.Images.Auth;
using Moat.Images.Service;
using Moat.Interop;
using Moat.Oci;

namespace Moat.Cli;

/// <summary>What an image command needs: the image service from the flags, output, and one place that turns failures into a sentence.</summary>
public sealed class ImageCommandContext(ParseResult parse, RegistryOptions? registry = null) : IDisposable
{
    ImageService? service;

    public ParseResult Parse { get; } = parse;
    public TextWriter Output => Parse.InvocationConfiguration.Output;

    public ImageService Images => service ??= new ImageService(ServiceOptions());

    public ImageServiceOptions ServiceOptions() => new()
    {
        Root = Parse.GetValue(MoatGlobalOptions.Root),
        RegistriesConf = Parse.GetValue(MoatGlobalOptions.RegistriesConf),
        TlsVerify = registry is null ? null : Parse.GetValue(registry.TlsVerify) is { } verify ? verify : TlsVerifyGivenBare(),
        AuthFile = registry is null ? null : Parse.GetValue(registry.AuthFile),
        CertDirectory = registry is null ? null : Parse.GetValue(registry.CertDir),
        Credentials = registry is null ? null : ParseCredentials(Parse.GetValue(registry.Creds)),
        Warn = Warn,
    };

    /// <summary>`--tls-verify` with no value means true, as podman takes it.</summary>
    bool? TlsVerifyGivenBare() => registry is not null && Parse.GetResult(registry.TlsVerify) is { Implicit: false } ? true : null;

    static RegistryCredential? ParseCredentials(string? text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        var colon = text.IndexOf(':');
        if (colon == 0) throw new ArgumentException("--creds needs a user name before the ':'");
        return colon < 0 ? new RegistryCredential(text, ReadPassword()) : new RegistryCredential(text[..colon], text[(colon + 1)..]);
    }

    static string ReadPassword()
    {
        if (Libc.isatty(0) != 1)
            throw new ArgumentException("--creds has no password and standard input is not a terminal to ask for one: give USERNAME:PASSWORD");
        return Moat.Cli.Output.Terminal.ReadSecret("Password: ");
    }

    public void Out(string text) => Output.Write(text);

    public static void Warn(string text) => Err("WARN: " + text);

    public static void Err(string line) => DescriptorWriter.ErrorLine(line);

    /// <summary>Runs a command body; any failure becomes "Error: sentence" on stderr and exit status 125, as podman does.</summary>
    public static int Run(ParseResult parse, RegistryOptions? registry, Func<ImageCommandContext, int> body)
    {
        using var context = new ImageCommandContext(parse, registry);
        try
        {
            return body(context);
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    /// <summary>Says what failed, once, as a sentence; returns the exit status for it.</summary>
    public static int Report(Exception e)
    {
        if (e is AggregateException { InnerExceptions.Count: > 0 } aggregate)
            e = aggregate.InnerExceptions[0];
        if (e is OperationCanceledException)
        {
            Err("Error: interrupted");
            return 130;
        }
        Err("Error: " + ErrorText.Of(e));
        return 125;
    }

    /// <summary>A cancellation token that fires on Ctrl-C or SIGTERM, so a pull stops cleanly and can resume later.</summary>
    public static CancellationToken Interruptible()
    {
        var source = new CancellationTokenSource();
        // Kept in a static: a registration that is collected stops handling the signal.
        signals =
        [
            System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, c => { c.Cancel = true; source.Cancel(); }),
            System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; source.Cancel(); }),
        ];
        return source.Token;
    }

    static System.Runtime.InteropServices.PosixSignalRegistration[]? signals;

    public void Dispose() => service?.Dispose();
}
