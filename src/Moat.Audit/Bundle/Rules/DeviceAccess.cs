using Moat.Audit.Findings;
using Moat.Oci;

namespace Moat.Audit.Bundle.Rules;

/// <summary>Which devices a container gets by default (Docker's list), and how dangerous another one is.</summary>
public static class DeviceAccess
{
    /// <summary>Character devices every container has: null, zero, full, random, urandom, tty, console, ptmx.</summary>
    static readonly (long Major, long Minor)[] DefaultNodes = [(1, 3), (1, 5), (1, 7), (1, 8), (1, 9), (5, 0), (5, 1), (5, 2)];

    /// <summary>Default cgroup allow rules beyond the nodes: pseudo-terminals (136:*) and /dev/net/tun (10:200), as Docker allows them.</summary>
    public static bool IsDefault(string? type, long? major, long? minor)
    {
        if (type is not ("c" or "u")) return false;
        if (major == 136) return true;
        if (major == 10 && minor == 200) return true;
        return major is { } ma && minor is { } mi && DefaultNodes.Contains((ma, mi));
    }

    /// <summary>Raw disks, physical memory, I/O ports and CPU model-specific registers are the host itself: critical; other devices medium.</summary>
    public static AuditSeverity Severity(string? type, long? major, long? minor) =>
        type == "b" ? AuditSeverity.Critical
        : major == 1 && minor is 1 or 2 or 4 ? AuditSeverity.Critical // mem, kmem, port
        : major is 202 or 203 ? AuditSeverity.Critical // cpu/N/msr, cpu/N/cpuid
        : AuditSeverity.Medium;

    public static string Gain(string? type, long? major) =>
        type == "b" ? "read and write a host disk below every file permission: root on the host"
        : major is 1 or 202 ? "read and write host memory, I/O ports or CPU registers: root on the host"
        : "reach a host device driver and its bugs; what the device gives (a GPU, FUSE, KVM...)";

    /// <summary>The index of a cgroup rule that lets the container open every device read-write, or null.</summary>
    public static int? AllowsEveryDevice(Linux linux)
    {
        var rules = linux.Resources?.Devices;
        if (rules is null) return null;
        for (var i = rules.Count - 1; i >= 0; i--)
        {
            var rule = rules[i];
            if (rule.Type is not (null or "a") || rule.Major is >= 0 || rule.Minor is >= 0) continue;
            var access = rule.Access ?? "rwm";
            if (!access.Contains('r') && !access.Contains('w')) continue;
            return rule.Allow ? i : null; // the last all-devices rule decides
        }
        return null;
    }
}

/// <summary>MOAT-A020: a device node created in the container beyond the default ones (--device).</summary>
public sealed class ExtraDeviceNode : SpecRule
{
    public override RuleInfo Info { get; } = new("MOAT-A020", "host device exposed", AuditSeverity.Medium, "CIS 5.17",
        "A device node is a door to a host driver; a disk, /dev/mem or an MSR device is the host itself. Severity: critical for block devices, memory, ports and CPU registers, medium for others.");

    public override void Check(SpecFacts config, FindingSink sink)
    {
        var devices = config.Linux.Devices ?? [];
        for (var i = 0; i < devices.Count; i++)
        {
            var device = devices[i];
            if (device.Type == "p" || DeviceAccess.IsDefault(device.Type, device.Major, device.Minor)) continue;
            sink.Add(DeviceAccess.Severity(device.Type, device.Major, device.Minor), $"linux.devices[{i}]",
                $"the device {device.Path} ({(device.Type == "b" ? "block" : "character")} {device.Major}:{device.Minor}) is created in the container",
                DeviceAccess.Gain(device.Type, device.Major),
                new AuditFix($"remove --device {device.Path}", $"remove linux.devices[{i}] and any linux.resources.devices rule allowing {device.Major}:{device.Minor}"));
        }
    }
}

/// <summary>MOAT-A021: the device cgroup lets the container open devices beyond the default list.</summary>
public sealed class DeviceCgroupAllows : SpecRule
{
    public override RuleInfo Info { get; } = new("MOAT-A021", "device cgroup allows devices beyond the default list", AuditSeverity.High, "CIS 5.17",
        "The device cgroup is what stops a process with CAP_MKNOD from creating and opening the host's disks; an allow rule beyond the default list (or no rule at all) removes that stop.");

    public override void Check(SpecFacts config, FindingSink sink)
    {
        var rules = config.Linux.Resources?.Devices;
        var separated = config.UserNamespaceSeparatesRoot;
        if (rules is null || rules.Count == 0)
        {
            // Inside a user namespace mknod is refused by the kernel, and runtimes add their own deny-all.
            sink.Add(separated ? AuditSeverity.Low : AuditSeverity.Medium, "linux.resources.devices",
                "no device cgroup rules: which devices can be opened is left to the runtime's defaults",
                "with CAP_MKNOD, open a host disk if the runtime adds no deny-all rule",
                new AuditFix("none: engines always write the rules", "set linux.resources.devices to [{\"allow\":false,\"access\":\"rwm\"}] followed by the allow rules the container needs"));
            return;
        }
        if (DeviceAccess.AllowsEveryDevice(config.Linux) is { } all)
        {
            sink.Add(AuditSeverity.Critical, $"linux.resources.devices[{all}]", "every device may be opened read-write",
                "create and open any host device (disks, /dev/mem): root on the host",
                new AuditFix("remove --privileged (and --device-cgroup-rule 'a *:* rwm')", $"replace linux.resources.devices[{all}] by {{\"allow\":false,\"access\":\"rwm\"}} and allow rules for the devices needed"));
            return;
        }
        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i];
            var access = rule.Access ?? "rwm";
            if (!rule.Allow || (!access.Contains('r') && !access.Contains('w'))) continue; // mknod alone opens nothing
            if (rule.Type is null or "a" || rule.Major is null or < 0 || (rule.Minor is null or < 0 && rule.Major != 136))
            {
                if (DeviceAccess.IsDefault(rule.Type, rule.Major, rule.Minor)) continue;
                sink.Add(rule.Type == "b" ? AuditSeverity.Critical : AuditSeverity.High, $"linux.resources.devices[{i}]",
                    $"allows {Describe(rule)} ({access}): a whole class of devices",
                    rule.Type == "b" ? "open every host disk" : "open a whole class of host devices",
                    new AuditFix("remove --device-cgroup-rule '" + Describe(rule) + " " + access + "'", $"remove linux.resources.devices[{i}]"));
                continue;
            }
            if (DeviceAccess.IsDefault(rule.Type, rule.Major, rule.Minor)) continue;
            sink.Add(DeviceAccess.Severity(rule.Type, rule.Major, rule.Minor), $"linux.resources.devices[{i}]",
                $"allows the device {Describe(rule)} ({access})", DeviceAccess.Gain(rule.Type, rule.Major),
                new AuditFix($"remove --device (or --device-cgroup-rule) for {rule.Major}:{rule.Minor}", $"remove linux.resources.devices[{i}]"));
        }
    }

    static string Describe(LinuxDeviceCgroup rule) =>
        $"{rule.Type ?? "a"} {(rule.Major is >= 0 ? rule.Major.ToString() : "*")}:{(rule.Minor is >= 0 ? rule.Minor.ToString() : "*")}";
}
