using MiniRedis.Execution;

namespace MiniRedis.Commands;

/// <summary>Background persistence commands: BGREWRITEAOF.</summary>
public static unsafe class PersistenceCommands
{
    public static void Register(CommandTable t) => t.Add("bgrewriteaof", &BgRewriteAof);

    static void BgRewriteAof(CommandContext ctx)
    {
        string? error = ctx.Server.AofRewrite.Start();
        if (error is null) ctx.Reply.SimpleString("Background append only file rewriting started");
        else ctx.Error(error);
    }
}
