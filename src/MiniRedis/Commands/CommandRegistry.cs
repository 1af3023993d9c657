using MiniRedis.Execution;

namespace MiniRedis.Commands;

/// <summary>Every command family, registered into the command table at start.</summary>
public static class CommandRegistry
{
    public static void RegisterAll(CommandTable table)
    {
        ConnectionCommands.Register(table);
        StringCommands.Register(table);
        TransactionCommands.Register(table);
        KeyCommands.Register(table);
        DatabaseCommands.Register(table);
        ServerCommands.Register(table);
        ClientCommands.Register(table);
        MonitorCommand.Register(table);
        HashCommands.Register(table);
        SetCommands.Register(table);
        ListCommands.Register(table);
        SortedSetCommands.Register(table);
        PersistenceCommands.Register(table);
        ScriptingCommands.Register(table);
        FunctionCommands.Register(table);
        PubSubCommands.Register(table);
        TrackingCommands.Register(table);
        BitmapCommands.Register(table);
        BitfieldCommand.Register(table);
        HyperLogLogCommands.Register(table);
        LcsCommand.Register(table);
        SlowlogCommands.Register(table);
        LatencyCommands.Register(table);
        DumpRestoreCommands.Register(table);
        GeoCommands.Register(table);
        MigrateCommand.Register(table);
        StreamCommands.Register(table);
        AclCommands.Register(table);
        ModuleCommands.Register(table);
        ReplicationCommands.Register(table);
        FailoverCommand.Register(table);
    }
}
