using Moat.Oci.Json;
using Moat.Runtime.Cli.Parsing;
using System.Globalization;
using System.Text.Json;
using Moat.Oci;
using Moat.Runtime;
using Moat.Runtime.Lifecycle;

namespace Moat.Runtime.Cli.Commands;

/// <summary>update: change a container's resource limits (runc's flags, or --resources FILE|-).</summary>
public static class UpdateCommand
{
    public static Command Create()
    {
        var id = IdArgument.One("the container to update");
        var resources = new Option<string?>("--resources", "-r") { Description = "path to a file with linux.resources as JSON ('-' for stdin)" };
        var blkioWeight = new Option<ushort?>("--blkio-weight") { Description = "block IO weight (10..1000)" };
        var cpuPeriod = new Option<ulong?>("--cpu-period") { Description = "CPU CFS period in microseconds" };
        var cpuQuota = new Option<long?>("--cpu-quota") { Description = "CPU CFS quota in microseconds per period" };
        var cpuShare = new Option<ulong?>("--cpu-share") { Description = "CPU shares (relative weight)" };
        var cpuRtPeriod = new Option<ulong?>("--cpu-rt-period") { Description = "CPU realtime period in microseconds" };
        var cpuRtRuntime = new Option<long?>("--cpu-rt-runtime") { Description = "CPU realtime runtime in microseconds" };
        var cpusetCpus = new Option<string?>("--cpuset-cpus") { Description = "CPUs to use (0-3, 0,1)" };
        var cpusetMems = new Option<string?>("--cpuset-mems") { Description = "memory nodes to use (0-3, 0,1)" };
        var memory = new Option<string?>("--memory") { Description = "memory limit (bytes, or with k/m/g suffix; -1 for none)" };
        var memoryReservation = new Option<string?>("--memory-reservation") { Description = "memory reservation (soft limit)" };
        var memorySwap = new Option<string?>("--memory-swap") { Description = "memory plus swap limit (-1 for unlimited swap)" };
        var pidsLimit = new Option<long?>("--pids-limit") { Description = "maximum number of pids (-1 or 0 for none)" };
        var command = new Command("update", "update container resource constraints");
        command.Arguments.Add(id);
        foreach (var option in new Option[] { resources, blkioWeight, cpuPeriod, cpuQuota, cpuShare, cpuRtPeriod, cpuRtRuntime,
                     cpusetCpus, cpusetMems, memory, memoryReservation, memorySwap, pidsLimit })
            command.Options.Add(option);
        command.SetAction(parse => CommandContext.Run(parse, context =>
        {
            LinuxResources changes;
            if (parse.GetValue(resources) is { } file)
            {
                var bytes = file == "-" ? ReadStdin() : CommandContext.ReadFile(file, "--resources");
                try
                {
                    changes = SpecJson.ReadLinuxResources(bytes);
                }
                catch (SpecJsonException e)
                {
                    throw new RuntimeException($"--resources {file}: {e.Message}");
                }
            }
            else
                changes = new UpdateFlags
                {
                    Memory = parse.GetValue(memory),
                    MemoryReservation = parse.GetValue(memoryReservation),
                    MemorySwap = parse.GetValue(memorySwap),
                    CpuPeriod = parse.GetValue(cpuPeriod),
                    CpuQuota = parse.GetValue(cpuQuota),
                    CpuShare = parse.GetValue(cpuShare),
                    CpuRtPeriod = parse.GetValue(cpuRtPeriod),
                    CpuRtRuntime = parse.GetValue(cpuRtRuntime),
                    CpusetCpus = parse.GetValue(cpusetCpus),
                    CpusetMems = parse.GetValue(cpusetMems),
                    PidsLimit = parse.GetValue(pidsLimit),
                    BlkioWeight = parse.GetValue(blkioWeight),
                }.ToResources();
            context.Runtime.Update(parse.GetValue(id)!, changes);
            return 0;
        }));
        return command;
    }

    static byte[] ReadStdin()
    {
        // Not System.Console: its first use on a terminal switches it to keypad mode.
        using var stdin = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(0, ownsHandle: false), FileAccess.Read, 1);
        using var buffer = new MemoryStream();
        stdin.CopyTo(buffer);
        return buffer.ToArray();
    }
}
