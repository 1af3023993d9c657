using System.Text;
using Microsoft.Extensions.Logging;
using MiniRedis.Execution;
using MiniRedis.Protocol;

namespace MiniRedis.Security;

/// <summary>
/// The server's ACL state (Redis's acl.c globals): users by name (listed in byte order, as Redis's rax),
/// the default user every connection starts as, the ACL log, and the checks run before a command.
/// Touched only on the executor thread.
/// </summary>
public sealed class AclStore
{
    readonly RedisServer _server;
    readonly SortedDictionary<string, AclUser> _users = new(StringComparer.Ordinal);
    readonly bool[] _hasKeys;

    public AclStore(RedisServer server)
    {
        _server = server;
        Catalog = new AclCatalog(server.Commands);
        _hasKeys = new bool[Catalog.Count];
        foreach (var def in server.Commands.All)
        {
            _hasKeys[def.AclId] = CommandKeys.HasKeys(def);
            if (def.Subcommands is null) continue;
            foreach (var sub in def.Subcommands.Values) _hasKeys[sub.AclId] = CommandKeys.HasKeys(sub);
        }
        Default = NewDefaultUser();
        _users["default"] = Default;
        ApplyRequirePass();
    }

    public AclCatalog Catalog { get; }
    public AclUser Default { get; }
    public AclLog Log { get; } = new();
    public IEnumerable<AclUser> Users => _users.Values;

    bool PubsubAllChannels => _server.Config.AclPubsubAllChannels;

    AclUser NewDefaultUser()
    {
        var user = new AclUser("default", Catalog, PubsubAllChannels);
        foreach (var rule in new[] { "+@all", "~*", "&*", "on", "nopass" }) user.Apply(Encoding.ASCII.GetBytes(rule), PubsubAllChannels);
        return user;
    }

    public AclUser? Find(string name) => _users.GetValueOrDefault(name);

    /// <summary>Redis's ACLUpdateDefaultUserPassword: requirepass is the default user's one password (or nopass when empty).</summary>
    public void ApplyRequirePass()
    {
        Default.Apply("resetpass"u8, PubsubAllChannels);
        var password = _server.Config.RequirePass;
        Default.Apply(password is null ? "nopass"u8 : Encoding.UTF8.GetBytes(">" + password), PubsubAllChannels);
    }

    /// <summary>Redis's authRequired: the default user needs a password (or is off) and the client has not authenticated.</summary>
    public bool DefaultNeedsAuth => !Default.NoPass || !Default.Enabled;

    /// <summary>AUTH / HELLO AUTH: the user when the pair is valid; otherwise null, and the failure is logged.</summary>
    public AclUser? Authenticate(ClientSession session, ReadOnlySpan<byte> username, ReadOnlySpan<byte> password, ReadOnlySpan<byte> commandName)
    {
        var name = Encoding.Latin1.GetString(username);
        if (Find(name) is { } user && user.CheckPassword(password)) return user;
        AddLog(session, AclDenial.Auth, session.InMulti ? "multi" : "toplevel", commandName.ToArray(), name);
        return null;
    }

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

    /// <summary>Redis's ACLStringSetUser: all the rules apply to a copy, which replaces the user only when every rule was valid. Returns the error text.</summary>
    public string? SetUser(string name, IReadOnlyList<byte[]> rules)
    {
        if (MergeSelectors(rules, out int openedAt) is not { } merged)
            return $"Unmatched parenthesis in acl selector starting at '{CommandContext.CString(rules[openedAt])}'.";
        var existing = Find(name);
        var staged = new AclUser(name, Catalog, PubsubAllChannels);
        if (existing is not null) staged.CopyFrom(existing);
        foreach (var rule in merged)
        {
            var error = staged.Apply(rule, PubsubAllChannels);
            if (error != AclRuleError.None) return $"Error in ACL SETUSER modifier '{CommandContext.CString(rule)}': {AclUser.ErrorText(error)}";
        }
        if (existing is null)
        {
            _users[name] = staged;
            return null;
        }
        KillSubscribersLosingChannels(existing, staged);
        existing.CopyFrom(staged);
        return null;
    }

    /// <summary>ACL DELUSER: removes the users and closes their connections (the caller's after this reply). Returns how many existed.</summary>
    public int DeleteUsers(IEnumerable<string> names, ClientSession caller)
    {
        int deleted = 0;
        foreach (var name in names)
        {
            if (!_users.Remove(name, out var user)) continue;
            DisconnectUser(user, caller);
            deleted++;
        }
        return deleted;
    }

    /// <summary>ACLFreeUserAndKillClients: a removed user's sessions go back to the default user unauthenticated and are closed.</summary>
    void DisconnectUser(AclUser user, ClientSession caller)
    {
        user.Removed = true;
        foreach (var client in _server.Clients.ToList())
        {
            if (client.User != user) continue;
            client.User = Default;
            client.Authenticated = false;
            if (client == caller) client.CloseAfterReply = true;
            else
            {
                client.Connection?.Close();
                _server.Disconnect(client);
            }
        }
    }

    /// <summary>
    /// ACLKillPubsubClientsIfNeeded: when a user's new channel rules are not a superset of its old
    /// ones, its subscribers whose subscriptions the new rules no longer allow are disconnected.
    /// </summary>
    void KillSubscribersLosingChannels(AclUser original, AclUser updated)
    {
        if (updated.Selectors.Any(s => s.AllChannels)) return;
        var upcoming = updated.Selectors.SelectMany(s => s.Channels).ToList();
        bool superset = original.Selectors.All(s => !s.AllChannels && s.Channels.All(c => upcoming.Any(u => u.AsSpan().SequenceEqual(c))));
        if (superset) return;
        var check = new AclSelector(Catalog, false);
        foreach (var channel in upcoming) check.Apply([(byte)'&', .. channel]);
        foreach (var client in _server.Clients.ToList())
        {
            if (client.User != original || client.Subscriptions is not { } subs) continue;
            bool kill = subs.Patterns.Any(p => !check.AllowsChannel(p, isPattern: true))
                || subs.Channels.Any(c => !check.AllowsChannel(c, isPattern: false))
                || subs.ShardChannels.Any(c => !check.AllowsChannel(c, isPattern: false));
            if (!kill) continue;
            client.Connection?.Close();
            _server.Disconnect(client);
        }
    }

    /// <summary>
    /// Redis's ACLLoadFromFile: every line is checked into a new set of users; only when the whole
    /// file is valid does it replace the current users (the default user keeps its identity, the
    /// others' sessions are closed). Returns Redis's error text naming each bad line, or null.
    /// </summary>
    public string? LoadFile(string path, ClientSession? caller)
    {
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
        string file = _server.Config.AclFile;
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
        Default.CopyFrom(newDefault);
        foreach (var (name, old) in _users)
        {
            if (old != Default) DisconnectUser(old, caller!);
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
            _server.Logger.LogWarning("Writing ACL file for ACL SAVE: {Error}", e.Message);
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

    // ---- Checks -------------------------------------------------------------------------------

    /// <summary>
    /// Redis's ACLCheckAllUserCommandPerm: null when some selector of <paramref name="user"/> allows the
    /// command with its keys and channels; otherwise why not, and the argument to blame (0 for the command).
    /// </summary>
    public AclDenial? Check(AclUser user, CommandDef command, ArgVector args, out int position)
    {
        position = 0;
        var relevant = AclDenial.Command;
        List<(int Position, string[] Flags)>? keys = null;
        foreach (var selector in user.Selectors)
        {
            var denial = CheckSelector(selector, command, args, ref keys, out int at);
            if (denial is null) return null;
            if (denial > relevant || (denial == relevant && at > position))
            {
                relevant = denial.Value;
                position = at;
            }
        }
        return relevant;
    }

    AclDenial? CheckSelector(AclSelector selector, CommandDef command, ArgVector args, ref List<(int Position, string[] Flags)>? keys, out int position)
    {
        position = 0;
        if ((command.Flags & CommandFlags.NoAuth) == 0 && !selector.AllowsCommand(command.AclId, args.Count >= 2 ? args[1] : default, args.Count >= 2))
            return AclDenial.Command;
        if (!selector.AllKeys && _hasKeys[command.AclId])
        {
            if (keys is null)
            {
                keys = [];
                CommandKeys.FindKeys(command, args, keys);
            }
            foreach (var (at, flags) in keys)
            {
                if (selector.AllowsKey(args[at], NeededPermissions(flags))) continue;
                position = at;
                return AclDenial.Key;
            }
        }
        if (!selector.AllChannels && ChannelArguments(command) is var (first, isPattern) && first > 0)
        {
            int last = command.Name is "publish" or "spublish" ? 1 : args.Count - 1;
            for (int i = first; i <= last; i++)
            {
                if (selector.AllowsChannel(args[i], isPattern)) continue;
                position = i;
                return AclDenial.Channel;
            }
        }
        return null;
    }

    /// <summary>The key-spec flags' needs: access reads; insert, delete and update write.</summary>
    static int NeededPermissions(string[] flags)
    {
        int needed = 0;
        foreach (var flag in flags)
        {
            if (flag == "access") needed |= AclSelector.Read;
            else if (flag is "insert" or "delete" or "update") needed |= AclSelector.Write;
        }
        return needed;
    }

    /// <summary>Redis's getChannelsFromCommand for the publish and subscribe commands: where the channels start, and whether they are patterns.</summary>
    static (int First, bool IsPattern) ChannelArguments(CommandDef command) => command.Name switch
    {
        "publish" or "spublish" or "subscribe" or "ssubscribe" => (1, false),
        "psubscribe" => (1, true),
        _ => (0, false),
    };

    /// <summary>Redis's getAclErrorMessage, verbose form (ACL DRYRUN).</summary>
    public static string DryRunText(AclDenial denial, CommandDef command, ReadOnlySpan<byte> culprit) => denial switch
    {
        AclDenial.Command => $"This user has no permissions to run the '{command.Name}' command",
        AclDenial.Key => $"This user has no permissions to access the '{CommandContext.CString(culprit)}' key",
        _ => $"This user has no permissions to access the '{CommandContext.CString(culprit)}' channel",
    };

    /// <summary>addACLLogEntry: the entry names the client that sent the command (a script's caller).</summary>
    public void AddLog(ClientSession client, AclDenial reason, string context, byte[] obj, string? username = null)
    {
        var info = new StringBuilder();
        ClientInfo.AppendLine(_server.Keyspace.NowMs, client, info);
        info.Length--;
        Log.Add(reason, context, obj, username ?? (client.User ?? Default).Name, _server.Keyspace.NowMs, info.ToString(), _server.Config.AclLogMaxLen);
    }

    /// <summary>
    /// The check before a command runs (processCommand) or a queued one runs (EXEC): null when allowed;
    /// otherwise the denial is logged under <paramref name="context"/> and its kind returned.
    /// </summary>
    public AclDenial? Deny(ClientSession session, AclUser user, CommandDef command, ArgVector args, string context)
    {
        if (Check(user, command, args, out int position) is not { } denial) return null;
        var obj = denial == AclDenial.Command ? Encoding.ASCII.GetBytes(command.Name) : args[position].ToArray();
        AddLog(session, denial, context, obj, user.Name);
        return denial;
    }

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
    public static string NoPermError(AclDenial denial, CommandDef command) => denial switch
    {
        AclDenial.Command => $"NOPERM this user has no permissions to run the '{command.Name}' command",
        AclDenial.Key => "NOPERM this user has no permissions to access one of the keys used as arguments",
        _ => "NOPERM this user has no permissions to access one of the channels used as arguments",
    };
}
