using System.Text;
using MiniRedis.Security;

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

    private AclCatalog? _aclCatalog;

    /// <summary>
    /// Redis's ACLAppendUserForLoading: a second declaration of a name, an open selector or a rule
    /// Redis would refuse (unknown commands aside) is an error, quoting the argument at the index
    /// Redis reports (an index into the merged rules used on the whole line, as Redis does).
    /// </summary>
    private string? DeclareUser(string[] args)
    {
        string Quoted(int index) => index == 0 ? "user" : args[index - 1];
        if (_userDeclarations.Any(d => d[0] == args[0]))
            return $"Error in user declaration '{Quoted(1)}': {AclUser.ErrorText(AclRuleError.DuplicateUser)}";
        var rules = args.Skip(1).Select(a => Encoding.Latin1.GetBytes(a)).ToList();
        if (AclStore.MergeSelectors(rules, out int openedAt) is not { } merged)
            return $"Error in user declaration '{Quoted(openedAt)}': {AclUser.ErrorText(AclRuleError.None)}";
        _aclCatalog ??= new AclCatalog(new Execution.CommandTable());
        var probe = new AclUser(args[0], _aclCatalog, AclPubsubAllChannels);
        for (int j = 0; j < merged.Count; j++)
        {
            var error = probe.Apply(merged[j], AclPubsubAllChannels);
            if (error is not (AclRuleError.None or AclRuleError.UnknownCommand))
                return $"Error in user declaration '{Quoted(j)}': {AclUser.ErrorText(error)}";
        }
        _userDeclarations.Add(args);
        return null;
    }
}
