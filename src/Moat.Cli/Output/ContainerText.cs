using Moat.Engine.Store;

namespace Moat.Cli.Output;

/// <summary>How docker words a container in a table: its status column and its command.</summary>
public static class ContainerText
{
    public static string Status(ContainerRecord c, DateTimeOffset now)
    {
        var health = c.Health is { } h && c.State is EngineStates.Running ? h == "starting" ? " (health: starting)" : $" ({h})" : "";
        return c.State switch
        {
            EngineStates.Running => $"Up {Duration(now - (c.StartedAt ?? now))}{health}",
            EngineStates.Paused => $"Up {Duration(now - (c.StartedAt ?? now))} (Paused)",
            EngineStates.Restarting => $"Restarting ({c.ExitCode}) {Duration(now - (c.FinishedAt ?? now))} ago",
            EngineStates.Exited => c.FinishedAt is { } f ? $"Exited ({c.ExitCode}) {Duration(now - f)} ago" : $"Exited ({c.ExitCode})",
            EngineStates.Created => "Created",
            EngineStates.Dead => "Dead",
            EngineStates.Removing => "Removal In Progress",
            _ => c.State,
        } + (c.MonitorLost ? " (monitor lost)" : "");
    }

    /// <summary>docker's "Up 5 seconds", "About a minute", "2 hours".</summary>
    public static string Duration(TimeSpan d)
    {
        if (d < TimeSpan.FromSeconds(1)) return "Less than a second";
        if (d < TimeSpan.FromSeconds(2)) return "1 second";
        if (d < TimeSpan.FromSeconds(60)) return $"{(int)d.TotalSeconds} seconds";
        if (d < TimeSpan.FromMinutes(2)) return "About a minute";
        if (d < TimeSpan.FromMinutes(60)) return $"{(int)d.TotalMinutes} minutes";
        if (d < TimeSpan.FromHours(2)) return "About an hour";
        if (d < TimeSpan.FromHours(48)) return $"{(int)d.TotalHours} hours";
        if (d < TimeSpan.FromDays(14)) return $"{(int)d.TotalDays} days";
        return $"{(int)(d.TotalDays / 7)} weeks";
    }

    public static string Command(ContainerRecord c, bool full)
    {
        var text = string.Join(' ', c.Settings.Args);
        if (!full && text.Length > 20) text = text[..19] + "…";
        return "\"" + text + "\"";
    }
}
