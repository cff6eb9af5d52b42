namespace Moat.Runtime.Tiers;

/// <summary>The isolation strengths Moat offers behind one runtime API.</summary>
public enum Isolation
{
    /// <summary>Namespaces, cgroups, capabilities, seccomp: what runc and crun give.</summary>
    Container,
    /// <summary>The container tier plus a supervisor that brokers sensitive system calls, and Landlock.</summary>
    Sandbox,
    /// <summary>The container inside its own microVM, with Moat's agent as the guest's init.</summary>
    Vm,
}

public static class IsolationNames
{
    /// <summary>The annotation a container's config carries to pick its tier (podman, CRI-O and Kubernetes pass annotations through).</summary>
    public const string Annotation = "run.moat.isolation";

    public static string ToName(this Isolation isolation) => isolation switch
    {
        Isolation.Container => "container",
        Isolation.Sandbox => "sandbox",
        Isolation.Vm => "vm",
        _ => throw new ArgumentOutOfRangeException(nameof(isolation)),
    };

    public static bool TryParse(string? name, out Isolation isolation)
    {
        switch (name)
        {
            case "container":
                isolation = Isolation.Container;
                return true;
            case "sandbox":
                isolation = Isolation.Sandbox;
                return true;
            case "vm":
                isolation = Isolation.Vm;
                return true;
            default:
                isolation = Isolation.Container;
                return false;
        }
    }
}
