using Moat.Interop;
using Moat.Runtime.Cli;
using Moat.Runtime.Cli.Commands;
using Moat.Runtime.Cli.Parsing;
using Moat.Runtime.Init;

// The init stage is this same binary re-executed inside the container's namespaces. It is checked
// before anything else so that the start path pays for no command-line parsing.
if (args.Length == 1 && args[0] == "init")
    return ContainerInit.Run();
#if MOAT_TIERS
// A sandboxed container's supervisor (started by the sandbox tier's create, never by a user).
if (args.Length > 0 && args[0] == Moat.Sandbox.Tier.SupervisorLauncher.Verb)
    return Moat.Sandbox.Supervisor.SupervisorProcess.Run(args[1..]);
// Its keep-awake process: spinners that keep the container's CPUs from halting while its calls come fast.
if (args.Length > 0 && args[0] == Moat.Sandbox.Supervisor.KeepAwakeProcess.Verb)
    return Moat.Sandbox.Supervisor.KeepAwakeProcess.Run(args[1..]);

// The vm tier's guest: this binary is /init of the initramfs, PID 1, told so by the kernel's command line.
if (Environment.ProcessId == 1 && Environment.GetEnvironmentVariable(Moat.Vm.VmNames.AgentEnvironment) == "1")
    return Moat.Vm.Guest.GuestAgent.Run();
// The vm tier's hidden verbs: the guest's init, and the host processes that outlive a create or exec.
if (args.Length > 0 && args[0].StartsWith("vm-", StringComparison.Ordinal))
    switch (args)
    {
        case [Moat.Vm.VmNames.AgentVerb]:
            return Moat.Vm.Guest.GuestAgent.Run();
        case [Moat.Vm.VmNames.ShimVerb, var directory]:
            return Moat.Vm.Host.VmShim.Run(directory);
        case [Moat.Vm.VmNames.ExecVerb, var directory, var process, var mode]:
            return Moat.Vm.Host.VmExecRelay.Run(directory, process, mode == "terminal");
    }
#else
TierHandOver.Arguments = [Environment.GetCommandLineArgs()[0], .. args];
#endif

var arguments = ExecCommand.SeparateCommand(args);
var parse = ParseResult.Parse(MoatCommandLine.Build(arguments), arguments);
if (parse.Errors.Count > 0 && !parse.HelpRequested)
    return MoatCommandLine.UsageError(arguments, parse.Errors);
return parse.Invoke();
