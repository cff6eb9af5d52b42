using System.CommandLine;
using Moat.Cli;
using Moat.Interop;

// Output through write(2): System.Console would put a terminal in keypad mode.
using var output = new DescriptorWriter(1);
using var error = new DescriptorWriter(2);
// A user's moat works inside its own user namespace: outside it, this re-executes moat there (docs/rootless.md).
if (Moat.Cli.Rootless.RootlessNamespace.Enter(args, error) is { } failed)
    return failed;
var root = MoatCommandLine.Build(args);
// `moat run IMAGE ls -l`, `moat exec CTR ls -l`: what follows IMAGE or CONTAINER is the container's command, flags and all.
return root.Parse(CommandArguments.Prepare(root, Moat.Cli.Commands.RunFlags.SeparateCommand(args))).Invoke(new InvocationConfiguration { Output = output, Error = error });
