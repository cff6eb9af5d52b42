using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Moat.Interop;
using Moat.Runtime.Protocol;
using Moat.Tests.Unit.Native;
using Xunit;

namespace Moat.Tests.Unit.Interop;

/// <summary>
/// native/spawn.h against its C# mirrors: the structs the runtime passes to the helper (every
/// field's offset and size, the struct's size, and no field in C that C# lacks), and the constants
/// and environment variable names both sides use. A C program that includes spawn.h, compiled
/// with the compiler that builds the helper, prints them (struct moat_spawn_request's promise,
/// in spawn.h, of a layout test).
/// </summary>
public sealed partial class SpawnLayoutTests
{
    [GeneratedRegex("(?<=[a-z0-9])([A-Z])")]
    private static partial Regex WordStart();

    /// <summary>The C name of a C# field: JoinFds is join_fds.</summary>
    static string CName(string field) => WordStart().Replace(field, "_$1").ToLowerInvariant();

    const DynamicallyAccessedMemberTypes Fields = DynamicallyAccessedMemberTypes.PublicFields | DynamicallyAccessedMemberTypes.NonPublicFields;

    static FieldInfo[] FieldsOf([DynamicallyAccessedMembers(Fields)] Type type) => type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);

    /// <summary>The size of a mirror's field; a fixed buffer's is its element's times its length.</summary>
    static long SizeOf(FieldInfo field) =>
        field.GetCustomAttribute<FixedBufferAttribute>() is { } buffer ? SizeOf(buffer.ElementType) * buffer.Length : SizeOf(field.FieldType);

    static long SizeOf(Type type) =>
        type.IsPointer ? IntPtr.Size
        : type == typeof(ulong) || type == typeof(long) ? 8
        : type == typeof(int) ? 4
        : throw new ArgumentException($"no C size known for {type}: add it here");

    static readonly (Type Type, string CStruct)[] Mirrors = [(typeof(SpawnRequest), "moat_spawn_request"), (typeof(MountSourceRequest), "moat_mount_source")];

    static string Program()
    {
        var program = new StringBuilder("""
            #include <stdio.h>
            #include <stddef.h>
            #include "spawn.h"
            #define P(name, value) printf("%s=%lld\n", name, (long long)(value))
            #define S(name) printf("%s=%s\n", #name, name)
            #define FIELD(s, f) P(#s "." #f, offsetof(struct s, f)); P("sizeof " #s "." #f, sizeof(((struct s *)0)->f))
            int main(void) {
              P("MOAT_MAX_JOINS", MOAT_MAX_JOINS);
              S(MOAT_SYNC_FD_VARIABLE);
              S(MOAT_MNTNS_FD_VARIABLE);
              S(MOAT_FORK_VARIABLE);

            """);
        foreach (var (type, cStruct) in Mirrors)
        {
            program.AppendLine($"  P(\"sizeof {cStruct}\", sizeof(struct {cStruct}));");
            foreach (var field in FieldsOf(type))
                program.AppendLine($"  FIELD({cStruct}, {CName(field.Name)});");
        }
        return program.Append("  return 0;\n}\n").ToString();
    }

    static readonly Lazy<Dictionary<string, string>> Probe = new(() => CProbe.Texts(Program(), "-I", CProbe.NativeDirectory));

    static Dictionary<string, string> C => Probe.Value;

    static long CValue(string name) => long.Parse(C[name]);

    [Fact]
    public void SpawnRequestIsLaidOutAsStructMoatSpawnRequest() => AssertLaidOutAsInC<SpawnRequest>("moat_spawn_request");

    [Fact]
    public void MountSourceRequestIsLaidOutAsStructMoatMountSource() => AssertLaidOutAsInC<MountSourceRequest>("moat_mount_source");

    static unsafe void AssertLaidOutAsInC<[DynamicallyAccessedMembers(Fields)] T>(string cStruct) where T : unmanaged
    {
        // Every C# field where C has it, as large, and the struct as large.
        var expected = new Dictionary<string, long> { [$"sizeof {cStruct}"] = sizeof(T) };
        foreach (var field in FieldsOf(typeof(T)))
        {
            expected[$"{cStruct}.{CName(field.Name)}"] = Marshal.OffsetOf<T>(field.Name);
            expected[$"sizeof {cStruct}.{CName(field.Name)}"] = SizeOf(field);
        }
        CProbe.AssertEqual(C.ToDictionary(e => e.Key, e => long.TryParse(e.Value, out var v) ? v : -1), expected);

        // And no C field that C# lacks (one in padding would move no offset): the struct's fields
        // as spawn.h declares them, one declaration per field.
        var header = File.ReadAllText(Path.Combine(CProbe.NativeDirectory, "spawn.h"));
        var body = Regex.Match(header, $@"struct {cStruct} \{{(.*?)\n\}};", RegexOptions.Singleline);
        Assert.True(body.Success, $"spawn.h declares no struct {cStruct}");
        var inC = Regex.Replace(body.Groups[1].Value, "//[^\n]*", "")
            .Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(declaration => Regex.Match(declaration, @"(\w+)\s*(\[[^\]]*\])?$").Groups[1].Value)
            .Order(StringComparer.Ordinal);
        Assert.Equal(inC, FieldsOf(typeof(T)).Select(f => CName(f.Name)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void TheConstantsAreTheSame()
    {
        Assert.Equal(SpawnRequest.MaxJoins, CValue("MOAT_MAX_JOINS"));
        Assert.Equal(InitEnvironment.SyncFdVariable, C["MOAT_SYNC_FD_VARIABLE"]);
        Assert.Equal(InitEnvironment.MountNamespaceFdVariable, C["MOAT_MNTNS_FD_VARIABLE"]);
        Assert.Equal(InitEnvironment.ForkVariable, C["MOAT_FORK_VARIABLE"]);
    }
}
