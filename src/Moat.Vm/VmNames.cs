namespace Moat.Vm;

/// <summary>Names the host and the guest agree on.</summary>
public static class VmNames
{
    /// <summary>The container's id, in the guest's copy of the config (the guest's runtime uses the same id).</summary>
    public const string IdAnnotation = "run.moat.vm.id";

    /// <summary>The 9p mount tag of the container's root filesystem; bind sources are m0, m1...</summary>
    public const string RootfsTag = "rootfs";

    /// <summary>The hidden verbs of moat-runtime: the guest's init, the per-container host process, an exec's relay.</summary>
    public const string AgentVerb = "vm-agent", ShimVerb = "vm-shim", ExecVerb = "vm-exec";

    /// <summary>Set to 1 in the environment of the guest's /init (the moat binary) by the kernel's command line: be the agent.</summary>
    public const string AgentEnvironment = "MOAT_VM_AGENT";
}
