using Moat.Oci.Json;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Moat.Oci;
using Moat.Runtime;
using Moat.Runtime.Lifecycle;

namespace Moat.Cli.Commands;

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
            {
                changes = new LinuxResources();
                if (parse.GetValue(memory) is { } m || parse.GetValue(memoryReservation) is not null || parse.GetValue(memorySwap) is not null)
                    changes.Memory = new LinuxMemory
                    {
                        Limit = Size(parse.GetValue(memory), "--memory"),
                        Reservation = Size(parse.GetValue(memoryReservation), "--memory-reservation"),
                        Swap = Size(parse.GetValue(memorySwap), "--memory-swap"),
                    };
                if (parse.GetValue(cpuPeriod) is not null || parse.GetValue(cpuQuota) is not null || parse.GetValue(cpuShare) is not null ||
                    parse.GetValue(cpuRtPeriod) is not null || parse.GetValue(cpuRtRuntime) is not null ||
                    parse.GetValue(cpusetCpus) is not null || parse.GetValue(cpusetMems) is not null)
                    changes.Cpu = new LinuxCpu
                    {
                        Period = parse.GetValue(cpuPeriod),
                        Quota = parse.GetValue(cpuQuota),
                        Shares = parse.GetValue(cpuShare),
                        RealtimePeriod = parse.GetValue(cpuRtPeriod),
                        RealtimeRuntime = parse.GetValue(cpuRtRuntime),
                        Cpus = parse.GetValue(cpusetCpus),
                        Mems = parse.GetValue(cpusetMems),
                    };
                if (parse.GetValue(pidsLimit) is { } pids)
                    changes.Pids = new LinuxPids { Limit = pids };
                if (parse.GetValue(blkioWeight) is { } weight)
                    changes.BlockIo = new LinuxBlockIo { Weight = weight };
            }
            ContainerUpdate.Apply(context.Store, parse.GetValue(id)!, changes, context.Warn);
            return 0;
        }));
        return command;
    }

    static byte[] ReadStdin()
    {
        using var stdin = Console.OpenStandardInput();
        using var buffer = new MemoryStream();
        stdin.CopyTo(buffer);
        return buffer.ToArray();
    }

    /// <summary>Bytes as runc's --memory takes them: a number with an optional k, m, g or t (binary) suffix, or -1.</summary>
    public static long? Size(string? text, string flag)
    {
        if (text is null)
            return null;
        var t = text.Trim().ToLowerInvariant().TrimEnd('b');
        long multiplier = 1;
        if (t.Length > 0 && "kmgt".Contains(t[^1]))
        {
            multiplier = t[^1] switch { 'k' => 1L << 10, 'm' => 1L << 20, 'g' => 1L << 30, _ => 1L << 40 };
            t = t[..^1];
        }
        if (!long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) || value < -1)
            throw new RuntimeException($"{flag} \"{text}\" is not a size (bytes, or a number with k, m, g or t)");
        return value == -1 ? -1 : value * multiplier;
    }
}
