using Moat.Runtime.Create;
using Xunit;

namespace Moat.Tests.Unit.Create;

public sealed class AuditGateTests
{
    const string Report = """
        {"subject":"/b","failOn":"high","failed":true,"findings":[
          {"id":"MOAT-A001","title":"t","severity":"medium","path":"process.user.uid","message":"runs as root","fix":{"flag":"x","change":"y"}},
          {"id":"MOAT-A003","severity":"critical","path":"process.capabilities.effective[3]","message":"CAP_SYS_ADMIN is granted","fix":{"flag":"x"}},
          {"id":"MOAT-A009","severity":"high","path":"linux.namespaces","message":"host pid namespace","waived":"accepted"}
        ]}
        """;

    [Fact]
    public void FindingsAtOrAboveTheThresholdAreKeptAndWaivedOnesLeftOut()
    {
        var high = AuditGate.FindingsAtOrAbove(Report, "high");
        Assert.Equal(["MOAT-A003"], high.Select(f => f.Id));
        Assert.Equal("process.capabilities.effective[3]", high[0].Path);
        Assert.Equal(["MOAT-A001", "MOAT-A003"], AuditGate.FindingsAtOrAbove(Report, "medium").Select(f => f.Id));
        Assert.Empty(AuditGate.FindingsAtOrAbove("""{"findings":[]}""", "low"));
    }
}
