using System.Text;
using MiniRedis.Tests.Support;

namespace MiniRedis.Tests.Commands;

/// <summary>
/// Random list command sequences (fixed seeds) sent to real Redis and MiniRedis: every reply must be byte-identical,
/// and the lists must match an in-test model after every step.
/// </summary>
[Trait("Category", "Differential")]
public sealed class ListPropertyTests(ServerPairFixture servers) : IClassFixture<ServerPairFixture>
{
    static readonly string[] Keys = ["l1", "l2", "l3"];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Random_sequences_match_real_redis_and_the_model(int seed)
    {
        var random = new Random(seed);
        using var redis = servers.Redis.Connect();
        using var mini = servers.Mini.Connect();
        redis.Call("FLUSHALL");
        mini.Call("FLUSHALL");
        var model = Keys.ToDictionary(k => k, _ => new List<string>());

        for (int step = 0; step < 1500; step++)
        {
            var command = NextCommand(random, model);
            var expected = redis.Call(command).ToArray();
            var actual = mini.Call(command).ToArray();
            Assert.True(expected.AsSpan().SequenceEqual(actual),
                $"step {step}: {string.Join(' ', command)}\n  redis: {RespConnection.Escape(expected)}\n  mini:  {RespConnection.Escape(actual)}");

            foreach (var key in Keys)
            {
                var range = mini.Call("LRANGE", key, "0", "-1");
                Assert.Equal(Encode(model[key]), RespConnection.Escape(range));
            }
        }
    }

    static string Encode(List<string> values)
        => RespConnection.Escape(Encoding.UTF8.GetBytes($"*{values.Count}\r\n" + string.Concat(values.Select(v => $"${v.Length}\r\n{v}\r\n"))));

    /// <summary>A random command, applied to the model as Redis would apply it.</summary>
    static string[] NextCommand(Random random, Dictionary<string, List<string>> model)
    {
        string key = Keys[random.Next(Keys.Length)];
        string other = Keys[random.Next(Keys.Length)];
        var list = model[key];
        string value = ((char)('a' + random.Next(4))).ToString();
        int index = random.Next(-6, 7);
        int index2 = random.Next(-6, 7);
        switch (random.Next(14))
        {
            case 0:
            case 1:
                list.Insert(0, value);
                return ["LPUSH", key, value];
            case 2:
            case 3:
                string second = value + value;
                list.Add(value);
                list.Add(second);
                return ["RPUSH", key, value, second];
            case 4:
                int n = random.Next(0, 3);
                list.RemoveRange(0, Math.Min(list.Count, n));
                return ["LPOP", key, n.ToString()];
            case 5:
                if (list.Count > 0) list.RemoveAt(list.Count - 1);
                return ["RPOP", key];
            case 6:
                return ["LRANGE", key, index.ToString(), index2.ToString()];
            case 7:
                {
                    int start = index < 0 ? index + list.Count : index, end = index2 < 0 ? index2 + list.Count : index2;
                    start = Math.Max(start, 0);
                    if (start > end || start >= list.Count) list.Clear();
                    else
                    {
                        end = Math.Min(end, list.Count - 1);
                        list.RemoveRange(end + 1, list.Count - end - 1);
                        list.RemoveRange(0, start);
                    }
                    return ["LTRIM", key, index.ToString(), index2.ToString()];
                }
            case 8:
                {
                    int count = random.Next(-2, 3), removed = 0;
                    for (int i = count < 0 ? list.Count - 1 : 0; i >= 0 && i < list.Count && (count == 0 || removed < Math.Abs(count));)
                    {
                        if (list[i] == value)
                        {
                            list.RemoveAt(i);
                            removed++;
                            if (count < 0) i--;
                        }
                        else i += count < 0 ? -1 : 1;
                    }
                    return ["LREM", key, count.ToString(), value];
                }
            case 9:
                {
                    int pivot = list.IndexOf(value);
                    bool after = random.Next(2) == 0;
                    if (pivot >= 0) list.Insert(after ? pivot + 1 : pivot, "x");
                    return ["LINSERT", key, after ? "AFTER" : "BEFORE", value, "x"];
                }
            case 10:
                {
                    int position = index < 0 ? index + list.Count : index;
                    if (position >= 0 && position < list.Count) list[position] = "s";
                    return ["LSET", key, index.ToString(), "s"];
                }
            case 11:
                {
                    bool fromLeft = random.Next(2) == 0, toLeft = random.Next(2) == 0;
                    if (list.Count > 0)
                    {
                        string moved = fromLeft ? list[0] : list[^1];
                        list.RemoveAt(fromLeft ? 0 : list.Count - 1);
                        if (toLeft) model[other].Insert(0, moved);
                        else model[other].Add(moved);
                    }
                    return ["LMOVE", key, other, fromLeft ? "LEFT" : "RIGHT", toLeft ? "LEFT" : "RIGHT"];
                }
            case 12:
                return random.Next(2) == 0
                    ? ["LPOS", key, value, "RANK", (index == 0 ? 1 : index).ToString(), "COUNT", random.Next(3).ToString(), "MAXLEN", random.Next(5).ToString()]
                    : ["LINDEX", key, index.ToString()];
            default:
                {
                    var first = Keys.FirstOrDefault(k => model[k].Count > 0);
                    int count = random.Next(1, 4);
                    if (first is not null) model[first].RemoveRange(model[first].Count - Math.Min(count, model[first].Count), Math.Min(count, model[first].Count));
                    return ["LMPOP", "3", .. Keys, "RIGHT", "COUNT", count.ToString()];
                }
        }
    }
}
