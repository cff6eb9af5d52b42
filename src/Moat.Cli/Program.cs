using System.CommandLine;
using Moat.Cli;
using Moat.Interop;

// Output through write(2): System.Console would put a terminal in keypad mode.
using var output = new DescriptorWriter(1);
using var error = new DescriptorWriter(2);
var root = MoatCommandLine.Build();
return root.Parse(CommandArguments.Prepare(root, args)).Invoke(new InvocationConfiguration { Output = output, Error = error });
