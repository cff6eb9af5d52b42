namespace Moat.Tests.Integration.Infrastructure;

public static class Wait
{
    /// <summary>Polls until the condition holds; fails the test after the limit (a bound, not a timing assertion).</summary>
    public static void Until(Func<bool> condition, string what, int seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new Xunit.Sdk.XunitException($"timed out waiting for {what}");
            Thread.Sleep(10);
        }
    }

    public static bool ProcessExists(int pid) => pid > 0 && Directory.Exists($"/proc/{pid}") &&
        !File.ReadAllText($"/proc/{pid}/stat").Split(')')[^1].TrimStart().StartsWith('Z');
}
