using System.Text;
using MiniRedis.Protocol;
using MiniRedis.Security;

namespace MiniRedis.Execution;

/// <summary>
/// A command against its user's ACL rules, where Redis checks it (processCommand, EXEC, a script's
/// call, ACL DRYRUN), and the ACL LOG entry of a denial. The rules are Security's; which arguments are
/// keys and channels is the command table's, and a log entry names the client by its CLIENT LIST line.
/// </summary>
public static class AclChecks
{
    /// <summary>
    /// Redis's ACLCheckAllUserCommandPerm: null when some selector of <paramref name="user"/> allows the
    /// command with its keys and channels; otherwise why not, and the argument to blame (0 for the command).
    /// </summary>
    public static AclDenial? Check(AclUser user, CommandDef command, ArgVector args, out int position)
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

    static AclDenial? CheckSelector(AclSelector selector, CommandDef command, ArgVector args, ref List<(int Position, string[] Flags)>? keys, out int position)
    {
        position = 0;
        if ((command.Flags & CommandFlags.NoAuth) == 0 && !selector.AllowsCommand(command.AclId, args.Count >= 2 ? args[1] : default, args.Count >= 2))
            return AclDenial.Command;
        if (!selector.AllKeys && command.HasKeys)
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

    /// <summary>
    /// The check before a command runs (processCommand) or a queued one runs (EXEC): null when allowed;
    /// otherwise the denial is logged under <paramref name="context"/> and its kind returned.
    /// </summary>
    public static AclDenial? Deny(this AclStore acl, ClientSession session, AclUser user, CommandDef command, ArgVector args, string context, long nowMs)
    {
        if (Check(user, command, args, out int position) is not { } denial) return null;
        var obj = denial == AclDenial.Command ? Encoding.ASCII.GetBytes(command.Name) : args[position].ToArray();
        acl.LogDenial(session, denial, context, obj, user.Name, nowMs);
        return denial;
    }

    /// <summary>addACLLogEntry: the entry names the client that sent the command (a script's caller).</summary>
    public static void LogDenial(this AclStore acl, ClientSession client, AclDenial reason, string context, byte[] obj, string username, long nowMs)
    {
        var info = new StringBuilder();
        ClientInfo.AppendLine(nowMs, client, info);
        info.Length--;
        acl.AddLog(reason, context, obj, username, info.ToString());
    }
}
