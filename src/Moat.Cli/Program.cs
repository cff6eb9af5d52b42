using Moat.Cli;
using Moat.Cli.Commands;
using Moat.Runtime.Init;

// The init stage is this same binary re-executed inside the container's namespaces. It is checked
// before anything else so that the start path pays for no command-line parsing.
if (args.Length == 1 && args[0] == "init")
    return ContainerInit.Run();

var arguments = ExecCommand.SeparateCommand(args);
var parse = MoatCommandLine.Build(arguments).Parse(arguments);
// A usage error is reported with the command's help, which needs the full tree (--help wired in).
if (parse.Errors.Count > 0)
    parse = MoatCommandLine.Build().Parse(arguments);
return parse.Invoke();
