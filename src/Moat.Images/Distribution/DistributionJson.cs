using System.Text.Json.Serialization;

namespace Moat.Images.Distribution;

/// <summary>A token endpoint's answer (docker token spec): `token` or OAuth2's `access_token`, and a lifetime.</summary>
internal sealed class TokenResponse
{
    [JsonPropertyName("token")] public string? Token { get; set; }
    [JsonPropertyName("access_token")] public string? AccessToken { get; set; }
    [JsonPropertyName("expires_in")] public int? ExpiresIn { get; set; }
    [JsonPropertyName("issued_at")] public DateTimeOffset? IssuedAt { get; set; }
}

/// <summary>The distribution spec's error body: `{"errors":[{"code","message","detail"}]}`.</summary>
internal sealed class ErrorResponse
{
    [JsonPropertyName("errors")] public List<ErrorEntry>? Errors { get; set; }
}

internal sealed class ErrorEntry
{
    [JsonPropertyName("code")] public string? Code { get; set; }
    [JsonPropertyName("message")] public string? Message { get; set; }
}

internal sealed class TagList
{
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("tags")] public List<string>? Tags { get; set; }
}

[JsonSourceGenerationOptions(ReadCommentHandling = System.Text.Json.JsonCommentHandling.Disallow)]
[JsonSerializable(typeof(TokenResponse))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(TagList))]
internal sealed partial class DistributionJsonContext : JsonSerializerContext;
