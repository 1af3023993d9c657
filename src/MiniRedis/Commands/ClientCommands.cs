using MiniRedis.Execution;

namespace MiniRedis.Commands;

/// <summary>CLIENT subcommands (Redis's networking.c).</summary>
public static unsafe class ClientCommands
{
    public const string InvalidNameError = "ERR Client names cannot contain spaces, newlines or special characters.";

    public static void Register(CommandTable t)
    {
    }

    /// <summary>Redis allows names of printable ASCII without spaces (an empty name clears it).</summary>
    public static bool IsValidName(string name)
    {
        foreach (char c in name)
        {
            if (c < '!' || c > '~') return false;
        }
        return true;
    }
}
