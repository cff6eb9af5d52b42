namespace Moat.Trust.Policy;

/// <summary>An image the trust policy refuses; the message names the policy file, the scope and the requirement.</summary>
public sealed class TrustPolicyException(string message, string policyFile, string scope, string requirement) : Exception(message)
{
    public string PolicyFile { get; } = policyFile;
    public string Scope { get; } = scope;
    public string Requirement { get; } = requirement;
}
