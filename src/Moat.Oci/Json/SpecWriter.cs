using System.Text.Json;
using static Moat.Oci.Json.JsonWrite;

namespace Moat.Oci.Json;

/// <summary>Writes the top of config.json in the model's declaration order, as the serializer does.</summary>
internal static class SpecWriter
{
    public static void WriteSpec(Utf8JsonWriter w, Spec spec)
    {
        w.WriteStartObject();
        String(w, "ociVersion"u8, spec.OciVersion);
        Object(w, "process"u8, spec.Process, ProcessWriter.WriteProcess);
        Object(w, "root"u8, spec.Root, WriteRoot);
        String(w, "hostname"u8, spec.Hostname);
        String(w, "domainname"u8, spec.Domainname);
        List(w, "mounts"u8, spec.Mounts, WriteMount);
        Object(w, "hooks"u8, spec.Hooks, WriteHooks);
        Dictionary(w, "annotations"u8, spec.Annotations);
        Object(w, "linux"u8, spec.Linux, LinuxWriter.WriteLinux);
        w.WriteEndObject();
    }

    private static void WriteRoot(Utf8JsonWriter w, Root root)
    {
        w.WriteStartObject();
        String(w, "path"u8, root.Path);
        if (root.Readonly)
        {
            w.WriteBoolean("readonly"u8, true);
        }
        w.WriteEndObject();
    }

    private static void WriteMount(Utf8JsonWriter w, Mount mount)
    {
        w.WriteStartObject();
        String(w, "destination"u8, mount.Destination);
        String(w, "type"u8, mount.Type);
        String(w, "source"u8, mount.Source);
        Strings(w, "options"u8, mount.Options);
        List(w, "uidMappings"u8, mount.UidMappings, LinuxWriter.WriteIdMapping);
        List(w, "gidMappings"u8, mount.GidMappings, LinuxWriter.WriteIdMapping);
        w.WriteEndObject();
    }

    private static void WriteHooks(Utf8JsonWriter w, Hooks hooks)
    {
        w.WriteStartObject();
        List(w, "prestart"u8, hooks.Prestart, WriteHook);
        List(w, "createRuntime"u8, hooks.CreateRuntime, WriteHook);
        List(w, "createContainer"u8, hooks.CreateContainer, WriteHook);
        List(w, "startContainer"u8, hooks.StartContainer, WriteHook);
        List(w, "poststart"u8, hooks.Poststart, WriteHook);
        List(w, "poststop"u8, hooks.Poststop, WriteHook);
        w.WriteEndObject();
    }

    private static void WriteHook(Utf8JsonWriter w, Hook hook)
    {
        w.WriteStartObject();
        String(w, "path"u8, hook.Path);
        Strings(w, "args"u8, hook.Args);
        Strings(w, "env"u8, hook.Env);
        Number(w, "timeout"u8, hook.Timeout);
        w.WriteEndObject();
    }
}
