namespace Moat.Vm.Host;

/// <summary>
/// QEMU's command line for a container's microVM: machine "microvm" (no PCI, no firmware; ACPI
/// only because Debian's kernel finds virtio-mmio devices through it, having no
/// VIRTIO_MMIO_CMDLINE_DEVICES), virtio-mmio devices only, no display, the serial console to a
/// file, the agent's virtio-serial port on a unix socket (QEMU listens, the shim connects), each
/// share as virtio-9p, and a virtio-net NIC per interface of the container's network namespace, on
/// a tap the shim passes as descriptor 3, 4... (none: the guest has no network device).
/// </summary>
public static class QemuCommandLine
{
    /// <summary>The descriptor QEMU finds the first tap on; the next ones follow.</summary>
    public const int FirstTapDescriptor = 3;

    public const string Binary = "qemu-system-x86_64";

    /// <summary>
    /// The kernel's command line. quiet/loglevel: no console output to emulate; tsc_early_khz,
    /// tsc=reliable, no_timer_check: under TCG the clock calibration otherwise hangs under load;
    /// panic=-1 with QEMU's -no-reboot: a panic ends QEMU at once; cgroup_no_v1=all: pure cgroup v2
    /// in the guest; MOAT_VM_AGENT=1 reaches /init's environment (not "--": QEMU appends the
    /// virtio-mmio device list after our arguments, and those must stay the kernel's).
    /// </summary>
    public static string KernelArguments(string accelerator) =>
        "console=ttyS0 quiet loglevel=3 panic=-1 reboot=t cgroup_no_v1=all "
        + (accelerator == "tcg" ? "tsc_early_khz=2000000 tsc=reliable no_timer_check " : "")
        + $"8250.nr_uarts=1 {VmNames.AgentEnvironment}=1";

    public static IReadOnlyList<string> Build(VmMachine machine)
    {
        List<string> args =
        [
            Binary,
            .. MachineArguments(machine.Accelerator),
            "-smp", machine.Cpus.ToString(),
            "-m", $"{machine.MemoryMiB}M",
            "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
            "-serial", $"file:{machine.ConsoleLog}",
            "-monitor", "none",
            "-kernel", machine.Kernel,
            "-initrd", machine.Initramfs,
            "-append", KernelArguments(machine.Accelerator),
            "-device", "virtio-serial-device",
            "-chardev", $"socket,id=agent,path={machine.AgentSocket},server=on,wait=off",
            "-device", $"virtserialport,chardev=agent,name={Guest.GuestAgent.PortName}",
        ];
        foreach (var share in machine.Shares)
        {
            // passthrough: the guest's root sees the files with their owners and modes, as the
            // container tier would (QEMU runs as root, as the runtime does).
            args.Add("-fsdev");
            args.Add($"local,id=fs{share.Tag},path={Escape(share.HostPath)},security_model=passthrough{(share.ReadOnly ? ",readonly=on" : "")}");
            args.Add("-device");
            args.Add($"virtio-9p-device,fsdev=fs{share.Tag},mount_tag={share.Tag}");
        }
        foreach (var (nic, index) in (machine.Nics ?? []).Select((n, i) => (n, i)))
        {
            // The veth's MAC: frames the bridge sends to the container's address reach the guest unchanged.
            args.Add("-netdev");
            args.Add($"tap,id=net{index},fd={FirstTapDescriptor + index}");
            args.Add("-device");
            args.Add($"virtio-net-device,netdev=net{index},mac={nic.Mac}");
        }
        return args;
    }

    /// <summary>The machine, accelerator and CPU model: a container's VM and the KVM probe (<see cref="KvmProbe"/>) boot the same.</summary>
    public static IEnumerable<string> MachineArguments(string accelerator) =>
    [
        "-M", "microvm,acpi=on,x-option-roms=off,rtc=on",
        // TCG's translation cache defaults to 1 GiB here, most of QEMU's resident memory: 32 MiB serves a container's guest.
        "-accel", accelerator == "tcg" ? "tcg,tb-size=32" : accelerator,
        "-cpu", accelerator == "kvm" ? "host" : "max",
    ];

    /// <summary>QEMU's option syntax: a comma in a value is written twice.</summary>
    public static string Escape(string value) => value.Replace(",", ",,");
}
