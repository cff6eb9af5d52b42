using System.CommandLine;
using Moat.Cli.Checks;
using Moat.Cli.Output;
using Moat.Engine.Containers;
using Moat.Engine.Monitor;
using Moat.Engine.Store;
using Moat.Images.Pull;

namespace Moat.Cli.Commands;

/// <summary>run: create + start, attached (stdio relayed, exit with the container's code) or -d (print the id); --rm removes it after.</summary>
public static class RunCommand
{
    public static Command Create(string name = "run")
    {
        var image = new Argument<string>("IMAGE") { Description = "the image to run" };
        var arguments = new Argument<string[]>("COMMAND") { Description = "the command and its arguments (default: the image's)", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command(name, "create and start a container");
        command.Arguments.Add(image);
        command.Arguments.Add(arguments);
        RunFlags.AddTo(command);
        var checkFlags = new RunCheckFlags(isRun: true);
        checkFlags.AddTo(command);
        command.SetAction(parse => ContainerCommandContext.Run(parse, context =>
        {
            var request = RunFlags.Read(parse, parse.GetValue(image)!, parse.GetValue(arguments) ?? [], RunFlags.HostWith(context.Engine));
            var checkOptions = checkFlags.Read(parse);
            if (checkOptions.SeccompRecord is not null)
                CheckRecordable(request);
            using var checks = new CreateChecks(checkOptions, context.Engine.Images, ImageCommandContext.Warn);
            request = request with { Checks = checks };
            foreach (var warning in request.Warnings)
                ImageCommandContext.Warn(warning);
            var engine = context.Engine;
            var progress = new ProgressDisplay(parse.InvocationConfiguration.Error, 2);
            var record = engine.CreateAsync(request, progress, ImageCommandContext.Interruptible()).GetAwaiter().GetResult();
            if (request.Detach)
            {
                try
                {
                    engine.Start(record.Id);
                }
                catch (StartFailedException)
                {
                    if (request.Remove) engine.Remove(record.Id, force: true, volumes: true);
                    throw;
                }
                context.Out(record.Id + "\n");
                return 0;
            }
            var code = Attached(context, record, request.Interactive, request.Tty, request.Remove);
            if (checks.Recording is { } recording)
                SeccompRecordOutput.Write(recording, checkOptions.SeccompRecord!, code, ImageCommandContext.Err, ImageCommandContext.Warn);
            return code;
        }));
        return command;
    }

    /// <summary>The recorder lives in this `moat run`: it must stay attached to the one run it records.</summary>
    static void CheckRecordable(Moat.Engine.Run.RunRequest request)
    {
        if (request.Detach)
            throw new Moat.Audit.AuditException("--seccomp-record needs the container attached: the recorder lives in this moat run, which -d would leave at once");
        if (request.Restart.Name != Moat.Monitor.Protocol.RestartPolicies.No)
            throw new Moat.Audit.AuditException("--seccomp-record records one run: it cannot be used with --restart");
        if (request.Isolation is "sandbox" or "vm")
            throw new Moat.Audit.AuditException($"--seccomp-record records under the container tier's seccomp filter: --isolation {request.Isolation} has its own supervision");
    }

    /// <summary>Starts the container attached and relays until it exits; returns its exit code (docker's rules for a failed start).</summary>
    public static int Attached(ContainerCommandContext context, ContainerRecord record, bool interactive, bool tty, bool remove)
    {
        var engine = context.Engine;
        int? code;
        var removed = false;
        try
        {
            var (current, client) = engine.PrepareStart(record.Id);
            if (client is null)
                throw new Moat.Engine.EngineException($"container {current.Name} is already running");
            using (client)
            {
                // This process removes the container after its exit (no second `moat` for the monitor's exit
                // command); should it die first, the monitor runs that command after all.
                var claimed = remove && ContainerEngine.ClaimRemoval(client);
                code = AttachRelay.Run(client, interactive, tty, pid => engine.MarkStarted(record.Id, pid));
                if (claimed && code is not null)
                {
                    try
                    {
                        removed = engine.RemoveAfterExit(record.Id, client);
                    }
                    catch (Exception e) when (e is Moat.Engine.EngineException or IOException or Moat.Interop.SyscallException or UnauthorizedAccessException)
                    {
                        // The container's exit code stays this command's; the monitor's exit command (on our hang-up) and the wait below try again.
                        ImageCommandContext.Warn($"removing the container after its exit: {Moat.Oci.ErrorText.Of(e)}");
                    }
                }
            }
        }
        catch (StartFailedException)
        {
            if (remove) RemoveQuietly(engine, record.Id);
            throw;
        }
        if (code is null)
        {
            // The monitor went without a word (killed): what the record says now.
            var now = engine.Store.Get(record.Id) is { } r ? engine.Reconcile(r) : null;
            code = now?.ExitCode ?? 255;
        }
        if (remove && !removed)
        {
            // The monitor went before it handed the removal over: its exit command may be at work. Wait for the
            // monitor (a /proc read, every 5 ms) a while, then make sure ourselves.
            var monitor = engine.Store.Get(record.Id) ?? record;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (ProcStat.IsAlive(monitor.MonitorPid, monitor.MonitorStartTime) && DateTime.UtcNow < deadline)
                Thread.Sleep(5);
            RemoveQuietly(engine, record.Id);
        }
        return code.Value;
    }

    static void RemoveQuietly(ContainerEngine engine, string id)
    {
        if (engine.Store.Get(id) is null) return;
        try { engine.Remove(id, force: true, volumes: true); }
        catch (Moat.Engine.NoSuchContainerException) { }
    }
}
