namespace MiniRedis.Config;

/// <summary>
/// What a config file's rename-command and user lines are checked against while it loads: Redis 7.0's
/// command names and ACL rules. Both are known above the config (the command table, the ACL rules);
/// the library installs its vocabulary in <see cref="ServerConfig.Vocabulary"/> when it loads.
/// </summary>
public interface ICommandVocabulary
{
    /// <summary>Every top-level command Redis 7.0 has, served here or not (what rename-command may name).</summary>
    IEnumerable<string> RedisCommandNames { get; }

    /// <summary>
    /// Redis's ACLAppendUserForLoading check of a <c>user NAME rules...</c> line (name first): null when
    /// it is accepted, else Redis's error text and the index of the argument its message quotes.
    /// </summary>
    (int Index, string Text)? UserDeclarationError(string[] args, bool alreadyDeclared, bool pubsubAllChannels);
}
