using Moat.Cli;
using Moat.Cli.Commands;
using Moat.Runtime.Init;

// The init stage is this same binary re-executed inside the container's namespaces. It is checked
// before anything else so that the start path pays for no command-line parsing.
if (args.Length == 1 && args[0] == "init")
    return ContainerInit.Run();

return MoatCommandLine.Build().Parse(ExecCommand.SeparateCommand(args)).Invoke();
