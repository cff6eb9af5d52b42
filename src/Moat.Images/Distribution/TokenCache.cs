using System.Collections.Concurrent;

namespace Moat.Images.Distribution;

/// <summary>A bearer token and when to stop using it.</summary>
internal sealed record BearerToken(string Value, DateTimeOffset Expires);

/// <summary>
/// Bearer tokens per (token service, scopes, user). Parallel requests for the same scopes share one token
/// request; a token is renewed a little before it expires, or at once when the registry refused it.
/// </summary>
internal sealed class TokenCache
{
    static readonly TimeSpan Margin = TimeSpan.FromSeconds(10);
    readonly ConcurrentDictionary<string, Task<BearerToken>> tokens = new(StringComparer.Ordinal);

    public async Task<BearerToken> GetAsync(string key, bool refresh, Func<Task<BearerToken>> fetch)
    {
        while (true)
        {
            var mine = new TaskCompletionSource<BearerToken>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (tokens.TryGetValue(key, out var existing))
            {
                if (!existing.IsCompleted) return await existing.ConfigureAwait(false);
                if (!refresh && existing.IsCompletedSuccessfully && existing.Result.Expires - Margin > DateTimeOffset.UtcNow) return existing.Result;
                if (!tokens.TryUpdate(key, mine.Task, existing)) { refresh = false; continue; } // someone renewed it meanwhile: use theirs
            }
            else if (!tokens.TryAdd(key, mine.Task)) continue;

            // Only the caller whose task went into the cache asks the token service.
            try
            {
                var token = await fetch().ConfigureAwait(false);
                mine.SetResult(token);
                return token;
            }
            catch (Exception e)
            {
                // A failed token request is not cached: the next attempt asks again.
                tokens.TryRemove(new KeyValuePair<string, Task<BearerToken>>(key, mine.Task));
                mine.SetException(e);
                _ = mine.Task.Exception; // observed: waiters rethrow it themselves
                throw;
            }
        }
    }

    /// <summary>Forgets a token the registry refused, unless it was already renewed.</summary>
    public void Invalidate(string key, BearerToken token)
    {
        if (tokens.TryGetValue(key, out var existing) && existing.IsCompletedSuccessfully && ReferenceEquals(existing.Result, token))
            tokens.TryRemove(new KeyValuePair<string, Task<BearerToken>>(key, existing));
    }

    public int Count => tokens.Count;
}
