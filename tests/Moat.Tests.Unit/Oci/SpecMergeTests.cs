using System.Text;
using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using Moat.Oci;
using Moat.Oci.Json;
using Xunit;

namespace Moat.Tests.Unit.Oci;

public sealed class SpecMergeTests
{
    private static byte[] Json(LinuxResources resources) => SpecJson.ToUtf8Bytes(w => SpecJson.Write(w, resources));

    private static byte[] Json(Spec spec) => SpecJson.ToUtf8Bytes(spec);

    private static string Merge(string old, string changes) =>
        Encoding.UTF8.GetString(SpecMerge.MergeJson(Encoding.UTF8.GetBytes(old), Encoding.UTF8.GetBytes(changes)));

    // ---- the tree merge ----

    [Fact]
    public void ObjectsAreMergedKeyByKeyRecursively() =>
        Assert.Equal("""{"a":{"x":1,"y":20},"b":2,"c":3}""", Merge("""{"a":{"x":1,"y":2},"b":2}""", """{"a":{"y":20},"c":3}"""));

    [Fact]
    public void ArraysAndScalarsAreReplacedWhole() =>
        Assert.Equal("""{"a":[9],"b":"new","c":{"d":1}}""", Merge("""{"a":[1,2,3],"b":"old","c":[1]}""", """{"a":[9],"b":"new","c":{"d":1}}"""));

    [Fact]
    public void ANullInTheChangesKeepsTheOldValue() =>
        Assert.Equal("""{"a":{"x":1},"b":2}""", Merge("""{"a":{"x":1},"b":2}""", """{"a":null,"b":null,"c":null}"""));

    [Fact]
    public void ANullInTheOldDocumentIsReplaced() =>
        Assert.Equal("""{"a":{"x":1},"b":null}""", Merge("""{"a":null,"b":null}""", """{"a":{"x":1}}"""));

    // ---- update: linux.resources ----

    /// <summary>The kitchen sink's resources as written by the codec: every field of the model, set.</summary>
    private static readonly JsonNode ResourcesTemplate = JsonTree.Parse(Json(KitchenSink.CreateResources()));

    /// <summary>What a merge replaces as a unit: scalars and arrays, by path.</summary>
    private static readonly string[] ResourceLeaves = [.. JsonTree.Leaves(ResourcesTemplate, arraysAreLeaves: true).Keys];

    public sealed record MergeCase(JsonNode Old, JsonNode New, bool[] Changed)
    {
        public override string ToString() =>
            $"old {Old.ToJsonString()}\nnew {New.ToJsonString()}\nchanged {string.Join(", ", ResourceLeaves.Where((_, i) => Changed[i]))}";
    }

    private static readonly Arbitrary<MergeCase> MergeCases = Arb.From(
        from old in JsonTree.Randomize(ResourcesTemplate)
        from @new in JsonTree.Randomize(ResourcesTemplate)
        from changed in Gen.Elements(true, false).ArrayOf(ResourceLeaves.Length)
        select new MergeCase(old!, @new!, changed));

    [Fact]
    public void TheLeavesCoverTheFieldsUpdateUsedToLose()
    {
        // Not a list of what is covered (the template is): a check that the walk sees into the objects.
        Assert.Contains("$.rdma[\"mlx5_1\"].hcaHandles", ResourceLeaves);
        Assert.Contains("$.memory.disableOOMKiller", ResourceLeaves);
        Assert.Contains("$.memory.checkBeforeUpdate", ResourceLeaves);
        Assert.Contains("$.cpu.idle", ResourceLeaves);
        Assert.Contains("$.devices", ResourceLeaves);
    }

    [Fact]
    public void UpdateKeepsEveryFieldOfTheChangesAndEveryOldFieldTheyDoNotSet()
    {
        var property = Prop.ForAll(MergeCases, (MergeCase c) =>
        {
            var changedPaths = ResourceLeaves.Where((_, i) => c.Changed[i]).ToHashSet();
            var old = SpecJson.ReadLinuxResources(JsonTree.ToUtf8(c.Old));
            var changes = SpecJson.ReadLinuxResources(JsonTree.ToUtf8(JsonTree.Prune(c.New, changedPaths) ?? new JsonObject()));

            var merged = SpecMerge.Merge(old, changes);

            var oldLeaves = JsonTree.Leaves(c.Old, arraysAreLeaves: true);
            var newLeaves = JsonTree.Leaves(c.New, arraysAreLeaves: true);
            var expected = ResourceLeaves.ToDictionary(p => p, p => changedPaths.Contains(p) ? newLeaves[p] : oldLeaves[p]);
            JsonTree.AssertSameLeaves(expected, JsonTree.Leaves(JsonTree.Parse(Json(merged)), arraysAreLeaves: true), "merged resources");
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(200), property);
    }

    [Fact]
    public void UpdateKeepsRdmaOomKillerAndIdleThatAHandKeptListLost()
    {
        var old = new LinuxResources
        {
            Memory = new LinuxMemory { Limit = 64 << 20 },
            Rdma = new() { ["mlx4_0"] = new LinuxRdma { HcaHandles = 1 } },
        };
        var changes = new LinuxResources
        {
            Memory = new LinuxMemory { DisableOomKiller = true, CheckBeforeUpdate = true },
            Cpu = new LinuxCpu { Idle = 1 },
            Rdma = new() { ["mlx5_1"] = new LinuxRdma { HcaObjects = 7 } },
        };

        var merged = SpecMerge.Merge(old, changes);

        Assert.Equal(64 << 20, merged.Memory!.Limit);
        Assert.True(merged.Memory.DisableOomKiller);
        Assert.True(merged.Memory.CheckBeforeUpdate);
        Assert.Equal(1, merged.Cpu!.Idle);
        Assert.Equal(1u, merged.Rdma!["mlx4_0"].HcaHandles);
        Assert.Equal(7u, merged.Rdma["mlx5_1"].HcaObjects);
    }

    [Fact]
    public void MergingIntoNothingIsACopyOfTheChanges()
    {
        var changes = KitchenSink.CreateResources();
        var merged = SpecMerge.Merge(null, changes);
        Assert.NotSame(changes, merged);
        Assert.Equal(Json(changes), Json(merged));
    }

    [Fact]
    public void TheMergeDoesNotChangeItsInputs()
    {
        var old = KitchenSink.CreateResources();
        var changes = new LinuxResources { Pids = new LinuxPids { Limit = 5 } };
        var before = Json(old);
        SpecMerge.Merge(old, changes);
        Assert.Equal(before, Json(old));
        Assert.Equal(-1, old.Pids!.Limit);
    }

    // ---- copies ----

    [Fact]
    public void ACopyHasEveryFieldAndSharesNothing()
    {
        var spec = KitchenSink.Create();
        var copy = SpecMerge.Copy(spec);
        Assert.Equal(Json(spec), Json(copy));

        copy.Process!.Env!.Add("NEW=1");
        copy.Process.User.Uid = 5;
        copy.Linux!.Resources!.Memory!.Limit = 1;
        Assert.Equal(Json(KitchenSink.Create()), Json(spec));
    }

    [Fact]
    public void MergingSpecsReplacesOnlyWhatTheChangesSet()
    {
        var old = KitchenSink.Create();
        // A Spec always writes ociVersion and nothing else when empty.
        var merged = SpecMerge.Merge(old, new Spec { OciVersion = "1.1.0", Hostname = "other" });
        Assert.Equal("1.1.0", merged.OciVersion);
        Assert.Equal("other", merged.Hostname);
        old.OciVersion = "1.1.0";
        old.Hostname = "other";
        Assert.Equal(Json(old), Json(merged));
    }
}
