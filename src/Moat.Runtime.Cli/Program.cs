using System.CommandLine;
using Moat.Interop;
using Moat.Runtime.Cli;
using Moat.Runtime.Cli.Commands;
using Moat.Runtime.Init;

// The init stage is this same binary re-executed inside the container's namespaces. It is checked
// before anything else so that the start path pays for no command-line parsing.
if (args.Length == 1 && args[0] == "init")
    return ContainerInit.Run();
// A sandboxed container's supervisor (started by the sandbox tier's create, never by a user).
if (args.Length > 0 && args[0] == Moat.Sandbox.Tier.SupervisorLauncher.Verb)
    return Moat.Sandbox.Supervisor.SupervisorProcess.Run(args[1..]);

var arguments = ExecCommand.SeparateCommand(args);
var parse = MoatCommandLine.Build(arguments).Parse(arguments);
using var output = new DescriptorWriter(1);
using var error = new DescriptorWriter(2);
// Help and usage go through write(2): System.Console would put a terminal in keypad mode.
var invocation = new InvocationConfiguration { Output = output, Error = error };
if (parse.Errors.Count > 0)
    return MoatCommandLine.UsageError(arguments, parse.Errors, invocation);
return parse.Invoke(invocation);
