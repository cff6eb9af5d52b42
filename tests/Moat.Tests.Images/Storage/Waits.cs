namespace Moat.Tests.Images.Storage;

static class Waits
{
    /// <summary>Fails when the task finishes within a moment: it should be blocked on a lock someone else holds.</summary>
    public static async Task AssertStillWaiting(Task task, string because)
    {
        await Task.WhenAny(task, Task.Delay(TimeSpan.FromMilliseconds(400)));
        Assert.False(task.IsCompleted, because);
    }
}
