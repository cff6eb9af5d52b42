using Moat.Images.Distribution;
using Moat.Images.Storage;
using Moat.Oci;

namespace Moat.Engine.Run;

/// <summary>
/// What `run` and `create` check on the way (`--audit`, `--scan`, the trust policy, `--seccomp-record`), called by
/// <see cref="Containers.ContainerEngine.CreateAsync"/> at fixed points. Each throws to refuse; the engine then
/// removes whatever of the container it had made, so a refused container leaves no record, layer or volume.
/// The engine knows none of the checks (they live with the tools: Moat.Audit, Moat.Scan, Moat.Trust).
/// </summary>
public interface ICreateChecks
{
    /// <summary>A pull the engine makes for this container: the resolved image, before anything is stored (the trust policy, as `pull` has it).</summary>
    Task CheckPullAsync(ResolvedImage resolved, CancellationToken cancellation);

    /// <summary>
    /// The image, in the store, before the container's record exists: the vulnerability scan and the trust policy.
    /// <paramref name="digest"/> is what the engine keeps as the image's digest (the one it was pulled by when the
    /// engine pulled it now, else its stored repo digest); <paramref name="pulledNow"/> says the pull hook saw it.
    /// </summary>
    Task CheckImageAsync(ImageRecord image, string imageName, string digest, bool pulledNow, CancellationToken cancellation);

    /// <summary>
    /// The config.json about to be written, before the monitor starts the runtime: the audit, and the seccomp
    /// recorder (which replaces the profile with its recording filter). <paramref name="subject"/> names the container.
    /// </summary>
    void CheckSpec(Spec spec, string subject);
}
