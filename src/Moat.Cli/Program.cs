using System.CommandLine;
using Moat.Cli;
using Moat.Interop;

// Output through write(2): System.Console would put a terminal in keypad mode.
using var output = new DescriptorWriter(1);
using var error = new DescriptorWriter(2);
// `moat run IMAGE ls -l`: the command after IMAGE is the container's, flags and all.
return MoatCommandLine.Build().Parse(Moat.Cli.Commands.RunFlags.SeparateCommand(args)).Invoke(new InvocationConfiguration { Output = output, Error = error });
