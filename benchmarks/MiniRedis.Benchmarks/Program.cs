using BenchmarkDotNet.Running;
using MiniRedis.Benchmarks;

// Pick benchmarks from the command line, e.g. --filter '*' --job short (see benchmarks/RESULTS.md).
BenchmarkSwitcher.FromAssembly(typeof(ProtocolBenchmarks).Assembly).Run(args);
