using System.Text;
using Microsoft.Extensions.Logging;
using MiniRedis.Config;
using MiniRedis.Data;
using MiniRedis.Protocol;

namespace MiniRedis.Security;

/// <summary>
/// The server's ACL state (Redis's acl.c globals): users by name (listed in byte order, as Redis's rax),
/// the default user every connection starts as, and the ACL log. The check of a command against a user's
/// rules, and what a change of users does to connected clients, are with the sessions and commands
/// (Execution.AclChecks, Commands.AclCommands). Touched only on the executor thread.
/// </summary>
public sealed class AclStore
{
    readonly ServerConfig _config;
    readonly ILogger _logger;
    readonly Keyspace _keyspace;
    readonly SortedDictionary<string, AclUser> _users = new(StringComparer.Ordinal);

    public AclStore(ServerConfig config, ILogger logger, Keyspace keyspace, AclCatalog catalog)
    {
        _config = config;
        _logger = logger;
        _keyspace = keyspace;
        Catalog = catalog;
        Default = NewDefaultUser();
        _users["default"] = Default;
        ApplyRequirePass();
    }

    public AclCatalog Catalog { get; }
    public AclUser Default { get; }
    public AclLog Log { get; } = new();
    public IEnumerable<AclUser> Users => _users.Values;

    bool PubsubAllChannels => _config.AclPubsubAllChannels;

    AclUser NewDefaultUser()
    {
        var user = new AclUser("default", Catalog, PubsubAllChannels);
        foreach (var rule in new[] { "+@all", "~*", "&*", "on", "nopass" }) user.Apply(Encoding.ASCII.GetBytes(rule), PubsubAllChannels);
        return user;
    }

    public AclUser? Find(string name) => _users.GetValueOrDefault(name);

    /// <summary>
    /// Raised before the default user's rules change (its password may start to be needed): clients
    /// that connected before must get their sessions first, under the old rules (the listener admits them).
    /// </summary>
    public event Action? DefaultUserChanging;

    /// <summary>Redis's ACLUpdateDefaultUserPassword: requirepass is the default user's one password (or nopass when empty).</summary>
    public void ApplyRequirePass()
    {
        DefaultUserChanging?.Invoke();
        Default.Apply("resetpass"u8, PubsubAllChannels);
        var password = _config.RequirePass;
        Default.Apply(password is null ? "nopass"u8 : Encoding.UTF8.GetBytes(">" + password), PubsubAllChannels);
    }

    /// <summary>Redis's authRequired: the default user needs a password (or is off) and the client has not authenticated.</summary>
    public bool DefaultNeedsAuth => !Default.NoPass || !Default.Enabled;

    /// <summary>AUTH / HELLO AUTH: the user when the pair is valid; otherwise null (the caller logs the failure).</summary>
    public AclUser? Authenticate(string username, ReadOnlySpan<byte> password)
        => Find(username) is { } user && user.CheckPassword(password) ? user : null;

    // ---- ACL SETUSER / DELUSER / LOAD ---------------------------------------------------------

    /// <summary>
    /// Redis's ACLAppendUserForLoading check of a config file's <c>user NAME rules...</c> line: a second
    /// declaration of a name, an open selector or a rule Redis would refuse (unknown commands aside) is an
    /// error, quoting the argument at the index Redis reports (an index into the merged rules used on the
    /// whole line, as Redis does).
    /// </summary>
    public static (int Index, string Text)? DeclarationError(AclCatalog catalog, string[] args, bool alreadyDeclared, bool pubsubAllChannels)
    {
        if (alreadyDeclared) return (1, AclUser.ErrorText(AclRuleError.DuplicateUser));
        var rules = args.Skip(1).Select(a => Encoding.Latin1.GetBytes(a)).ToList();
        if (MergeSelectors(rules, out int openedAt) is not { } merged) return (openedAt, AclUser.ErrorText(AclRuleError.None));
        var probe = new AclUser(args[0], catalog, pubsubAllChannels);
        for (int j = 0; j < merged.Count; j++)
        {
            var error = probe.Apply(merged[j], pubsubAllChannels);
            if (error is not (AclRuleError.None or AclRuleError.UnknownCommand)) return (j, AclUser.ErrorText(error));
        }
        return null;
    }

    /// <summary>
    /// Redis's ACLMergeSelectorArguments: a selector written over several arguments ("(~x" "+get)")
    /// becomes one; null (and the index of its first argument) when a parenthesis is left open.
    /// </summary>
    public static List<byte[]>? MergeSelectors(IReadOnlyList<byte[]> rules, out int openedAt)
    {
        var merged = new List<byte[]>();
        List<byte>? selector = null;
        openedAt = -1;
        for (int i = 0; i < rules.Count; i++)
        {
            var op = rules[i];
            if (selector is null && op.Length > 0 && op[0] == '(' && op[^1] != ')')
            {
                selector = [.. op];
                openedAt = i;
                continue;
            }
            if (selector is not null)
            {
                selector.Add((byte)' ');
                selector.AddRange(op);
                if (op.Length > 0 && op[^1] == ')')
                {
                    merged.Add([.. selector]);
                    selector = null;
                    openedAt = -1;
                }
                continue;
            }
            merged.Add(op);
        }
        return selector is null ? merged : null;
    }

    /// <summary>
    /// Redis's ACLStringSetUser: all the rules apply to a copy, which replaces the user only when every rule
    /// was valid. Returns the error text. When an existing user's channel rules narrowed,
    /// <paramref name="channelsLeft"/> holds the channels it may still use: its subscribers whose
    /// subscriptions these refuse are to be disconnected (Redis's ACLKillPubsubClientsIfNeeded).
    /// </summary>
    public string? SetUser(string name, IReadOnlyList<byte[]> rules, out AclSelector? channelsLeft)
    {
        channelsLeft = null;
        if (MergeSelectors(rules, out int openedAt) is not { } merged)
            return $"Unmatched parenthesis in acl selector starting at '{ArgVector.CString(rules[openedAt])}'.";
        var existing = Find(name);
        var staged = new AclUser(name, Catalog, PubsubAllChannels);
        if (existing is not null) staged.CopyFrom(existing);
        foreach (var rule in merged)
        {
            var error = staged.Apply(rule, PubsubAllChannels);
            if (error != AclRuleError.None) return $"Error in ACL SETUSER modifier '{ArgVector.CString(rule)}': {AclUser.ErrorText(error)}";
        }
        if (existing is null)
        {
            _users[name] = staged;
            return null;
        }
        channelsLeft = ChannelsLeft(existing, staged);
        if (existing == Default) DefaultUserChanging?.Invoke();
        existing.CopyFrom(staged);
        return null;
    }

    /// <summary>ACL DELUSER: removes the users (marked <see cref="AclUser.Removed"/>); the caller disconnects their clients. Returns the removed ones.</summary>
    public List<AclUser> DeleteUsers(IEnumerable<string> names)
    {
        var deleted = new List<AclUser>();
        foreach (var name in names)
        {
            if (!_users.Remove(name, out var user)) continue;
            user.Removed = true;
            deleted.Add(user);
        }
        return deleted;
    }

    /// <summary>
    /// The channel half of ACLKillPubsubClientsIfNeeded: null when the updated rules allow every channel
    /// the original ones did; otherwise a selector allowing just the updated channels.
    /// </summary>
    AclSelector? ChannelsLeft(AclUser original, AclUser updated)
    {
        if (updated.Selectors.Any(s => s.AllChannels)) return null;
        var upcoming = updated.Selectors.SelectMany(s => s.Channels).ToList();
        bool superset = original.Selectors.All(s => !s.AllChannels && s.Channels.All(c => upcoming.Any(u => u.AsSpan().SequenceEqual(c))));
        if (superset) return null;
        var check = new AclSelector(Catalog, false);
        foreach (var channel in upcoming) check.Apply([(byte)'&', .. channel]);
        return check;
    }

    /// <summary>
    /// Redis's ACLLoadFromFile: every line is checked into a new set of users; only when the whole
    /// file is valid does it replace the current users (the default user keeps its identity; the others
    /// are marked <see cref="AclUser.Removed"/> and returned in <paramref name="replaced"/>, for the caller
    /// to disconnect their clients). Returns Redis's error text naming each bad line, or null.
    /// </summary>
    public string? LoadFile(string path, out List<AclUser> replaced)
    {
        replaced = [];
        string text;
        try
        {
            text = File.ReadAllText(path, Encoding.Latin1);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"Error loading ACLs, opening file '{path}': {(e is FileNotFoundException or DirectoryNotFoundException ? "No such file or directory" : e.Message)}";
        }
        var loaded = new SortedDictionary<string, AclUser>(StringComparer.Ordinal);
        var errors = new StringBuilder();
        var lines = text.Split('\n');
        string file = _config.AclFile;
        for (int i = 0; i < lines.Length; i++)
        {
            int number = i + 1;
            var line = lines[i].Trim(' ', '\t', '\r', '\n');
            if (line.Length == 0) continue;
            var args = line.Split(' ');
            if (args[0] != "user" || args.Length < 2)
            {
                errors.Append($"{file}:{number} should start with user keyword followed by the username. ");
                continue;
            }
            var name = args[1];
            if (AclSelector.HasSpaces(Encoding.Latin1.GetBytes(name)))
            {
                errors.Append($"'{file}:{number}: username '{name}' contains invalid characters. ");
                continue;
            }
            if (loaded.ContainsKey(name))
            {
                errors.Append($"WARNING: Duplicate user '{name}' found on line {number}. ");
                continue;
            }
            var user = new AclUser(name, Catalog, PubsubAllChannels);
            loaded[name] = user;
            var rules = args.Skip(2).Select(a => Encoding.Latin1.GetBytes(a)).ToList();
            if (MergeSelectors(rules, out _) is not { } merged)
            {
                errors.Append($"{file}:{number}: Unmatched parenthesis in selector definition.");
                continue;
            }
            bool syntaxError = false;
            foreach (var rule in merged)
            {
                var trimmed = Encoding.Latin1.GetString(rule).Trim('\t', '\r', '\n');
                var error = user.Apply(Encoding.Latin1.GetBytes(trimmed), PubsubAllChannels);
                if (error == AclRuleError.None) continue;
                if (error == AclRuleError.UnknownCommand)
                    errors.Append($"{file}:{number}: Error in applying operation '{trimmed}': {AclUser.ErrorText(error)}. ");
                else if (!syntaxError)
                {
                    errors.Append($"{file}:{number}: {AclUser.ErrorText(error)}. ");
                    syntaxError = true;
                }
            }
        }
        if (errors.Length > 0) return errors.Append("WARNING: ACL errors detected, no change to the previously active ACL rules was performed").ToString();

        var newDefault = loaded.GetValueOrDefault("default") ?? NewDefaultUser();
        DefaultUserChanging?.Invoke();
        Default.CopyFrom(newDefault);
        foreach (var old in _users.Values)
        {
            if (old == Default) continue;
            old.Removed = true;
            replaced.Add(old);
        }
        _users.Clear();
        foreach (var (name, user) in loaded) _users[name] = name == "default" ? Default : user;
        _users["default"] = Default;
        return null;
    }

    /// <summary>Redis's ACLSaveToFile: every user as an ACL LIST line, written to a temporary file, fsynced and renamed over the file.</summary>
    public bool SaveFile(string path)
    {
        var text = new StringBuilder();
        foreach (var line in ListLines()) text.Append(line).Append('\n');
        string temp = $"{path}.tmp-{Environment.ProcessId}-{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}";
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
            {
                stream.Write(Encoding.Latin1.GetBytes(text.ToString()));
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning("Writing ACL file for ACL SAVE: {Error}", e.Message);
            try { File.Delete(temp); } catch (IOException) { }
            return false;
        }
    }

    /// <summary>ACL LIST: "user NAME rules" for every user.</summary>
    public IEnumerable<string> ListLines() => _users.Values.Select(u => $"user {u.Name} {u.Describe()}");

    /// <summary>
    /// The users a config file declares (<c>user</c> lines, checked at load by <see cref="ValidateUserLine"/>):
    /// created in order at start; the default user is reset first when redeclared.
    /// </summary>
    public string? LoadConfiguredUsers(IReadOnlyList<string[]> declarations)
    {
        foreach (var declaration in declarations)
        {
            string name = declaration[0];
            var rules = MergeSelectors([.. declaration.Skip(1).Select(a => Encoding.Latin1.GetBytes(a))], out _)!;
            var user = Find(name);
            if (user is null) _users[name] = user = new AclUser(name, Catalog, PubsubAllChannels);
            else user.Apply("reset"u8, PubsubAllChannels);
            foreach (var rule in rules)
            {
                var error = user.Apply(rule, PubsubAllChannels);
                if (error != AclRuleError.None)
                    return $"Error loading ACL rule '{Encoding.Latin1.GetString(rule)}' for the user named '{name}': {AclUser.ErrorText(error)}";
            }
        }
        return null;
    }

    // ---- Denials ------------------------------------------------------------------------------

    /// <summary>Redis's getAclErrorMessage, verbose form (ACL DRYRUN).</summary>
    public static string DryRunText(AclDenial denial, string commandName, ReadOnlySpan<byte> culprit) => denial switch
    {
        AclDenial.Command => $"This user has no permissions to run the '{commandName}' command",
        AclDenial.Key => $"This user has no permissions to access the '{ArgVector.CString(culprit)}' key",
        _ => $"This user has no permissions to access the '{ArgVector.CString(culprit)}' channel",
    };

    /// <summary>addACLLogEntry: <paramref name="clientInfo"/> is the CLIENT LIST line of the client that sent the command (a script's caller).</summary>
    public void AddLog(AclDenial reason, string context, byte[] obj, string username, string clientInfo)
        => Log.Add(reason, context, obj, username, _keyspace.NowMs, clientInfo, _config.AclLogMaxLen);

    /// <summary>EXEC's error for a queued command its user may no longer run.</summary>
    public static string ChangedSinceQueuedError(AclDenial denial) =>
        "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: " + denial switch
        {
            AclDenial.Command => "no permission to execute the command or subcommand",
            AclDenial.Key => "no permission to touch the specified keys",
            _ => "no permission to access one of the channels used as arguments",
        };

    /// <summary>scriptVerifyACL's texts for a command a script called.</summary>
    public static string ScriptError(AclDenial denial) => denial switch
    {
        AclDenial.Command => "ERR The user executing the script can't run this command or subcommand",
        AclDenial.Key => "ERR The user executing the script can't access at least one of the keys mentioned in the command arguments",
        _ => "ERR The user executing the script can't publish to the channel mentioned in the command",
    };

    /// <summary>processCommand's -NOPERM texts.</summary>
    public static string NoPermError(AclDenial denial, string commandName) => denial switch
    {
        AclDenial.Command => $"NOPERM this user has no permissions to run the '{commandName}' command",
        AclDenial.Key => "NOPERM this user has no permissions to access one of the keys used as arguments",
        _ => "NOPERM this user has no permissions to access one of the channels used as arguments",
    };
}
