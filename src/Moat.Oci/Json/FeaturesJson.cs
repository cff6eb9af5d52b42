using System.Text.Json;

namespace Moat.Oci.Json;

/// <summary>
/// The features document, written by hand: with it, moat-runtime has no serializer context left, so
/// System.Text.Json's serializer (its ~900 types, whose type data is relocated, so resident, in every
/// process) is not in the binary. Same bytes as the source-generated form (nulls left out).
/// </summary>
public static class FeaturesJson
{
    public static void Write(Utf8JsonWriter w, Features features)
    {
        w.WriteStartObject();
        w.WriteString("ociVersionMin"u8, features.OciVersionMin);
        w.WriteString("ociVersionMax"u8, features.OciVersionMax);
        JsonWrite.Strings(w, "hooks"u8, features.Hooks);
        JsonWrite.Strings(w, "mountOptions"u8, features.MountOptions);
        JsonWrite.Object(w, "linux"u8, features.Linux, WriteLinux);
        JsonWrite.Dictionary(w, "annotations"u8, features.Annotations);
        JsonWrite.Strings(w, "potentiallyUnsafeConfigAnnotations"u8, features.PotentiallyUnsafeConfigAnnotations);
        w.WriteEndObject();
    }

    public static byte[] ToUtf8Bytes(Features features, bool indented = false) =>
        SpecJson.ToUtf8Bytes(w => Write(w, features), SpecJson.WriterOptions(indented));

    static void WriteLinux(Utf8JsonWriter w, LinuxFeatures linux)
    {
        w.WriteStartObject();
        JsonWrite.Strings(w, "namespaces"u8, linux.Namespaces);
        JsonWrite.Strings(w, "capabilities"u8, linux.Capabilities);
        JsonWrite.Object(w, "cgroup"u8, linux.Cgroup, WriteCgroup);
        JsonWrite.Object(w, "seccomp"u8, linux.Seccomp, WriteSeccomp);
        JsonWrite.Object(w, "apparmor"u8, linux.Apparmor, WriteEnabled);
        JsonWrite.Object(w, "selinux"u8, linux.Selinux, WriteEnabled);
        JsonWrite.Object(w, "intelRdt"u8, linux.IntelRdt, WriteEnabled);
        JsonWrite.Object(w, "mountExtensions"u8, linux.MountExtensions, WriteMountExtensions);
        w.WriteEndObject();
    }

    static void WriteCgroup(Utf8JsonWriter w, CgroupFeatures cgroup)
    {
        w.WriteStartObject();
        JsonWrite.Bool(w, "v1"u8, cgroup.V1);
        JsonWrite.Bool(w, "v2"u8, cgroup.V2);
        JsonWrite.Bool(w, "systemd"u8, cgroup.Systemd);
        JsonWrite.Bool(w, "systemdUser"u8, cgroup.SystemdUser);
        JsonWrite.Bool(w, "rdma"u8, cgroup.Rdma);
        w.WriteEndObject();
    }

    static void WriteSeccomp(Utf8JsonWriter w, SeccompFeatures seccomp)
    {
        w.WriteStartObject();
        JsonWrite.Bool(w, "enabled"u8, seccomp.Enabled);
        JsonWrite.Strings(w, "actions"u8, seccomp.Actions);
        JsonWrite.Strings(w, "operators"u8, seccomp.Operators);
        JsonWrite.Strings(w, "archs"u8, seccomp.Archs);
        JsonWrite.Strings(w, "knownFlags"u8, seccomp.KnownFlags);
        JsonWrite.Strings(w, "supportedFlags"u8, seccomp.SupportedFlags);
        w.WriteEndObject();
    }

    static void WriteEnabled(Utf8JsonWriter w, EnabledFeature feature)
    {
        w.WriteStartObject();
        JsonWrite.Bool(w, "enabled"u8, feature.Enabled);
        w.WriteEndObject();
    }

    static void WriteMountExtensions(Utf8JsonWriter w, MountExtensionsFeatures extensions)
    {
        w.WriteStartObject();
        JsonWrite.Object(w, "idmap"u8, extensions.Idmap, WriteEnabled);
        w.WriteEndObject();
    }
}
