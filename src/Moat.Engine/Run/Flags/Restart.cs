using System.Globalization;
using Moat.Monitor.Protocol;

namespace Moat.Engine.Run.Flags;

/// <summary>`--restart no|on-failure[:N]|always|unless-stopped`.</summary>
public static class Restart
{
    public static RestartPolicy Parse(string text)
    {
        var colon = text.IndexOf(':');
        var name = colon < 0 ? text : text[..colon];
        var count = colon < 0 ? null : text[(colon + 1)..];
        switch (name)
        {
            case RestartPolicies.No or RestartPolicies.Always or RestartPolicies.UnlessStopped:
                if (count is not null)
                    throw new RunFlagException($"--restart \"{text}\": only on-failure takes a retry count");
                return new RestartPolicy { Name = name };
            case RestartPolicies.OnFailure:
                var retries = 0;
                if (count is not null && (!int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out retries)))
                    throw new RunFlagException($"--restart \"{text}\": the retry count \"{count}\" is not a number of 0 or more");
                return new RestartPolicy { Name = name, MaximumRetryCount = retries };
            default:
                throw new RunFlagException($"--restart \"{text}\" is not no, on-failure[:N], always or unless-stopped");
        }
    }
}
