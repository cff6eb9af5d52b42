using Moat.Images.Model;

namespace Moat.Images.Bundles;

/// <summary>
/// The image settings that have no place of their own in config.json, carried as annotations so the
/// engine (and `moat inspect`) can read them back from the bundle:
/// <list type="bullet">
/// <item>every image Label, under its own key (labels are already reverse-DNS keys, as annotations are);</item>
/// <item><c>org.opencontainers.image.stopSignal</c>: StopSignal (the image-spec's annotation for it);</item>
/// <item><c>run.moat.image.exposedPorts</c>: ExposedPorts, comma-separated in the image's spelling (80/tcp,53/udp);</item>
/// <item><c>run.moat.image.volumes</c>: Volumes, comma-separated paths;</item>
/// <item><c>run.moat.image.architecture</c>, <c>run.moat.image.os</c>: the image's platform.</item>
/// </list>
/// Moat's own keys are set after the labels, so a label cannot fake them.
/// </summary>
public static class ImageAnnotations
{
    public const string StopSignal = "org.opencontainers.image.stopSignal";
    public const string ExposedPorts = "run.moat.image.exposedPorts";
    public const string Volumes = "run.moat.image.volumes";
    public const string Architecture = "run.moat.image.architecture";
    public const string Os = "run.moat.image.os";

    public static Dictionary<string, string> From(ImageConfig image)
    {
        var annotations = new Dictionary<string, string>(StringComparer.Ordinal);
        var config = image.Config;
        foreach (var (key, value) in config?.Labels ?? [])
            annotations[key] = value;
        if (!string.IsNullOrEmpty(config?.StopSignal))
            annotations[StopSignal] = config.StopSignal;
        else
            annotations.Remove(StopSignal);
        SetList(annotations, ExposedPorts, config?.ExposedPorts?.Keys);
        SetList(annotations, Volumes, config?.Volumes?.Keys);
        SetList(annotations, Architecture, string.IsNullOrEmpty(image.Architecture) ? null : [image.Architecture]);
        SetList(annotations, Os, string.IsNullOrEmpty(image.Os) ? null : [image.Os]);
        return annotations;
    }

    static void SetList(Dictionary<string, string> annotations, string key, IEnumerable<string>? values)
    {
        var list = values?.Order(StringComparer.Ordinal).ToList();
        if (list is { Count: > 0 })
            annotations[key] = string.Join(',', list);
        else
            annotations.Remove(key);
    }
}
