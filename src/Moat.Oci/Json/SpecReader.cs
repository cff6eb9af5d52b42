using System.Text.Json;
using static Moat.Oci.Json.JsonRead;

namespace Moat.Oci.Json;

/// <summary>Reads the top of config.json: the document itself, root, mounts and hooks.</summary>
internal static class SpecReader
{
    public static Spec ReadSpec(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var spec = new Spec();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "ociVersion"u8, "ociVersion")) spec.OciVersion = String(ref r, c);
            else if (c.Is(ref r, "process"u8, "process")) spec.Process = NullableObject(ref r, c, ProcessReader.ReadProcess);
            else if (c.Is(ref r, "root"u8, "root")) spec.Root = NullableObject(ref r, c, ReadRoot);
            else if (c.Is(ref r, "hostname"u8, "hostname")) spec.Hostname = NullableString(ref r, c);
            else if (c.Is(ref r, "domainname"u8, "domainname")) spec.Domainname = NullableString(ref r, c);
            else if (c.Is(ref r, "mounts"u8, "mounts")) spec.Mounts = NullableList(ref r, c, ReadMount);
            else if (c.Is(ref r, "hooks"u8, "hooks")) spec.Hooks = NullableObject(ref r, c, ReadHooks);
            else if (c.Is(ref r, "annotations"u8, "annotations")) spec.Annotations = NullableDictionary(ref r, c, String);
            else if (c.Is(ref r, "linux"u8, "linux")) spec.Linux = NullableObject(ref r, c, LinuxReader.ReadLinux);
            else c.SkipUnknown(ref r);
        }
        return spec;
    }

    private static Root ReadRoot(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var root = new Root();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "path"u8, "path")) root.Path = String(ref r, c);
            else if (c.Is(ref r, "readonly"u8, "readonly")) root.Readonly = Bool(ref r, c);
            else c.SkipUnknown(ref r);
        }
        return root;
    }

    private static Mount ReadMount(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var mount = new Mount();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "destination"u8, "destination")) mount.Destination = String(ref r, c);
            else if (c.Is(ref r, "type"u8, "type")) mount.Type = NullableString(ref r, c);
            else if (c.Is(ref r, "source"u8, "source")) mount.Source = NullableString(ref r, c);
            else if (c.Is(ref r, "options"u8, "options")) mount.Options = NullableList(ref r, c, String);
            else if (c.Is(ref r, "uidMappings"u8, "uidMappings")) mount.UidMappings = NullableList(ref r, c, LinuxReader.ReadIdMapping);
            else if (c.Is(ref r, "gidMappings"u8, "gidMappings")) mount.GidMappings = NullableList(ref r, c, LinuxReader.ReadIdMapping);
            else c.SkipUnknown(ref r);
        }
        return mount;
    }

    private static Hooks ReadHooks(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var hooks = new Hooks();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "prestart"u8, "prestart")) hooks.Prestart = NullableList(ref r, c, ReadHook);
            else if (c.Is(ref r, "createRuntime"u8, "createRuntime")) hooks.CreateRuntime = NullableList(ref r, c, ReadHook);
            else if (c.Is(ref r, "createContainer"u8, "createContainer")) hooks.CreateContainer = NullableList(ref r, c, ReadHook);
            else if (c.Is(ref r, "startContainer"u8, "startContainer")) hooks.StartContainer = NullableList(ref r, c, ReadHook);
            else if (c.Is(ref r, "poststart"u8, "poststart")) hooks.Poststart = NullableList(ref r, c, ReadHook);
            else if (c.Is(ref r, "poststop"u8, "poststop")) hooks.Poststop = NullableList(ref r, c, ReadHook);
            else c.SkipUnknown(ref r);
        }
        return hooks;
    }

    private static Hook ReadHook(ref Utf8JsonReader r, JsonReadContext c)
    {
        c.StartObject(ref r);
        var hook = new Hook();
        while (c.NextProperty(ref r))
        {
            if (c.Is(ref r, "path"u8, "path")) hook.Path = String(ref r, c);
            else if (c.Is(ref r, "args"u8, "args")) hook.Args = NullableList(ref r, c, String);
            else if (c.Is(ref r, "env"u8, "env")) hook.Env = NullableList(ref r, c, String);
            else if (c.Is(ref r, "timeout"u8, "timeout")) hook.Timeout = NullableInt32(ref r, c);
            else c.SkipUnknown(ref r);
        }
        return hook;
    }
}
