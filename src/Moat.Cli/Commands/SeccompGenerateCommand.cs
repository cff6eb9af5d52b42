using System.CommandLine;
using System.Diagnostics;
using Moat.Audit;
using Moat.Audit.Host;
using Moat.Audit.Seccomp;

namespace Moat.Cli.Commands;

/// <summary>
/// seccomp generate: run a bundle (`--bundle DIR`) or an image (`-- IMAGE CMD...`, which is
/// `moat run --rm --seccomp-record FILE IMAGE CMD...`) once while recording every system call its
/// processes make, and write the least-privilege profile that allows exactly those (docs/security.md,
/// "Generated seccomp profiles").
/// </summary>
public static class SeccompGenerateCommand
{
    public static Command Create()
    {
        var bundle = new Option<string?>("--bundle", "-b") { Description = "the OCI bundle to run (its config's own seccomp is replaced while recording)" };
        var image = new Argument<string?>("IMAGE") { Description = "an image to run instead of a bundle (after --), as moat run would", Arity = ArgumentArity.ZeroOrOne };
        var arguments = new Argument<string[]>("COMMAND") { Description = "the command and its arguments (default: the image's)", Arity = ArgumentArity.ZeroOrMore };
        var output = new Option<string>("--output", "-o") { Description = "where to write the profile (linux.seccomp JSON)", Required = true };
        var runtime = new Option<string?>("--runtime") { Description = "the OCI runtime to run it with (default: moat-runtime next to moat)" };
        var runtimeRoot = new Option<string?>("--runtime-root") { Description = "the runtime's state directory (its --root)" };
        var command = new Command("generate", "record a run of a bundle (--bundle DIR) or an image (-- IMAGE CMD...) and write a profile that allows exactly the system calls it made");
        foreach (var option in new Option[] { bundle, output, runtime, runtimeRoot })
            command.Options.Add(option);
        command.Arguments.Add(image);
        command.Arguments.Add(arguments);
        command.SetAction(parse => ImageCommandContext.Run(parse, null, context =>
        {
            if (parse.GetValue(image) is { } imageName)
            {
                if (parse.GetValue(bundle) is not null)
                    throw new AuditException("give either --bundle DIR or -- IMAGE CMD..., not both");
                return RecordImage(parse, imageName, parse.GetValue(arguments) ?? [], parse.GetValue(output)!);
            }
            if (parse.GetValue(bundle) is null)
                throw new AuditException("give what to record: --bundle DIR, or -- IMAGE CMD... (an image run as moat run would)");
            var runtimePath = parse.GetValue(runtime)
                ?? HostAuditor.FindRuntimeBinary(AppContext.BaseDirectory, Environment.GetEnvironmentVariable("PATH"))
                ?? throw new AuditException("moat-runtime was found neither next to moat nor on PATH: give --runtime");
            var globals = parse.GetValue(runtimeRoot) is { } root ? new[] { "--root", root } : [];
            var clock = Stopwatch.StartNew();
            var result = RecordedRun.Run(parse.GetValue(bundle)!, runtimePath, globals, ImageCommandContext.Warn);
            var profile = ProfileGenerator.Generate(result.Recording, result.Architectures);
            ProfileFile.Write(parse.GetValue(output)!, profile);
            var recording = result.Recording;
            var families = recording.SocketFamilies.Count == 0 ? "none" : string.Join(", ", recording.SocketFamilies.Select(SocketFamilyName));
            var clone = !recording.Names.Contains("clone") ? "never called"
                : recording.CloneFlags.Any(f => (f & ProfileGenerator.NamespaceFlags) != 0) ? "allowed (the program made namespaces)" : "allowed without namespace flags";
            ImageCommandContext.Err($"recorded {recording.Count} calls, {recording.Names.Count} distinct, in {clock.Elapsed.TotalSeconds:0.0} s; the program exited {result.ExitCode}");
            ImageCommandContext.Err($"wrote {parse.GetValue(output)}: {profile.Syscalls![0].Names.Count} calls allowed, clone {clone}, socket families: {families}; everything else fails with EPERM");
            if (result.ExitCode != 0)
                ImageCommandContext.Warn("the program did not exit 0: the profile holds only what this run reached");
            return 0;
        }));
        return command;
    }

    /// <summary>The image form: `moat run --rm --seccomp-record FILE IMAGE CMD...` with the same global options.</summary>
    static int RecordImage(ParseResult parse, string image, string[] command, string output)
    {
        var args = new List<string>();
        if (parse.GetValue(MoatGlobalOptions.Root) is { } root)
            args.AddRange(["--root", root]);
        if (parse.GetValue(MoatGlobalOptions.RegistriesConf) is { } registries)
            args.AddRange(["--registries-conf", registries]);
        args.AddRange(["run", "--rm", "--seccomp-record", output, image, .. command]);
        var line = RunFlags.SeparateCommand([.. args]);
        var tree = MoatCommandLine.Build(line);
        return tree.Parse(CommandArguments.Prepare(tree, line)).Invoke(parse.InvocationConfiguration);
    }

    internal static string SocketFamilyName(int family) => family switch
    {
        1 => "AF_UNIX",
        2 => "AF_INET",
        10 => "AF_INET6",
        16 => "AF_NETLINK",
        17 => "AF_PACKET",
        _ => family.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
