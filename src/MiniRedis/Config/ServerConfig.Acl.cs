namespace MiniRedis.Config;

/// <summary>The ACL directives: aclfile, acllog-max-len, acl-pubsub-default, and the users a config file declares.</summary>
public sealed partial class ServerConfig
{
    /// <summary>aclfile: where ACL LOAD/SAVE read and write users; empty when none.</summary>
    public string AclFile { get; private set; } = "";
    public long AclLogMaxLen { get; private set; } = 128;

    /// <summary>acl-pubsub-default allchannels: new users (and <c>reset</c>) start with all channels.</summary>
    public bool AclPubsubAllChannels { get; private set; }

    private readonly List<string[]> _userDeclarations = [];

    /// <summary>The <c>user NAME rules...</c> lines, in file order (name first), checked for syntax.</summary>
    public IReadOnlyList<string[]> UserDeclarations => _userDeclarations;

    /// <summary>The current users as config lines ("user NAME rules"), for CONFIG REWRITE; set by the server.</summary>
    public Func<IEnumerable<string>>? UserLines { get; set; }

    /// <summary>
    /// Redis's ACLAppendUserForLoading: a second declaration of a name, an open selector or a rule
    /// Redis would refuse (unknown commands aside) is an error, quoting the argument at the index
    /// Redis reports.
    /// </summary>
    private string? DeclareUser(string[] args)
    {
        bool declared = _userDeclarations.Any(d => d[0] == args[0]);
        if (Vocabulary!.UserDeclarationError(args, declared, AclPubsubAllChannels) is { } error)
            return $"Error in user declaration '{(error.Index == 0 ? "user" : args[error.Index - 1])}': {error.Text}";
        _userDeclarations.Add(args);
        return null;
    }
}
