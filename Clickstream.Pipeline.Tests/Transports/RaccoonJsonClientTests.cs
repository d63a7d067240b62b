using System.Buffers;
using System.Text;
using Clickstream.Pipeline.Processing;
using Clickstream.Pipeline.Raccoon;
using Clickstream.Pipeline.Tests.Support;
using Clickstream.Pipeline.Transports;
using Google.Protobuf;
using Reference = Clickstream.Raccoon;

namespace Clickstream.Pipeline.Tests.Transports;

/// <summary>
/// The library's side of Raccoon JSON (requests written from the envelopes, responses read) against the reference
/// codec in Clickstream.Raccoon, the one the collector speaks: the same bytes out, the same messages in.
/// </summary>
public class RaccoonJsonClientTests
{
    [TestCase(0, 0)]
    [TestCase(1_790_000_000, 0)]
    [TestCase(1_790_000_000, 123_456_700)]
    [TestCase(0, 100)]
    public void Request_is_byte_for_byte_what_the_reference_codec_writes(long seconds, int nanos)
    {
        var sentTime = DateTimeOffset.UnixEpoch.AddSeconds(seconds).AddTicks(nanos / 100);
        var events = new[]
        {
            Envelopes.Make(1, size: 0),
            Envelopes.Make(2, size: 1),
            Envelopes.Make(3, size: 300),
            new EventEnvelope(new EventTypeInfo("grüppe \"quoted\" <é> \u2028", durable: true), [1, 2, 3], CancellationToken.None),
        };
        var requestGuid = Guid.NewGuid();

        Assert.That(Write(requestGuid, sentTime, events), Is.EqualTo(ReferenceJson(requestGuid, sentTime, events)));
    }

    [Test]
    public void Request_reads_back_with_each_event_and_type()
    {
        var events = Enumerable.Range(1, 50).Select(i => Envelopes.Make(i, size: i * 7)).ToArray();
        var requestGuid = Guid.NewGuid();

        var read = Reference.RaccoonJson.ReadRequest(Encoding.UTF8.GetBytes(Write(requestGuid, DateTimeOffset.UtcNow, events)));

        using (Assert.EnterMultipleScope())
        {
            Assert.That(read.ReqGuid, Is.EqualTo(requestGuid.ToString()));
            Assert.That(read.Events.Select(e => e.EventBytes.ToByteArray()), Is.EqualTo(events.Select(e => e.Bytes)));
            Assert.That(read.Events.Select(e => e.Type), Is.All.EqualTo("pageview"));
        }
    }

    [Test]
    public void Response_reads_what_the_reference_codec_writes()
    {
        var written = new Reference.SendEventResponse
        {
            Status = Reference.Status.Error,
            Code = Reference.Code.MaxUserLimitReached,
            SentTime = long.MaxValue,
            Reason = "already connected \"é\"",
            Data = { { "req_guid", "r-9" }, { "other", "" }, { "alpha", "a" } },
        };
        var buffer = new ArrayBufferWriter<byte>();
        Reference.RaccoonJson.WriteResponse(written, buffer);

        var read = RaccoonJson.ReadResponse(buffer.WrittenSpan);

        Assert.That(Fields(read), Is.EqualTo(Fields(written)));
    }

    // The reader is one file with the reference codec's (shared/RaccoonResponseJson.cs), so these pin what Go's
    // json.Unmarshal makes of each body rather than compare the two.
    [TestCase("""{"status":1,"code":1,"sent_time":1790000001,"data":{"req_guid":"a1"}}""", 1, 1, 1_790_000_001, "", "req_guid=a1", TestName = "ReadResponse_raccoon_success_reads_as_go_does")]
    [TestCase("""{"status":2,"code":2,"sent_time":1790000000,"reason":"invalid content type"}""", 2, 2, 1_790_000_000, "invalid content type", TestName = "ReadResponse_raccoon_error_reads_as_go_does")]
    [TestCase("""{"extra":{"deep":[1,{"x":null}]},"STATUS":1,"Code":1,"data":{"req_guid":"a"},"more":true}""", 1, 1, 0, "", "req_guid=a", TestName = "ReadResponse_unknown_and_differently_cased_keys_read_as_go_does")]
    [TestCase("""{"status":1,"status":null,"reason":"a","reason":"b","data":{"req_guid":"x"},"data":{"other":null}}""", 1, 0, 0, "b", "other=", "req_guid=x", TestName = "ReadResponse_repeated_keys_and_nulls_read_as_go_does")]
    [TestCase("""{"data":{"a":"1"},"data":null}""", 0, 0, 0, "", TestName = "ReadResponse_null_data_reads_as_go_does")]
    [TestCase(" null ", 0, 0, 0, "", TestName = "ReadResponse_top_level_null_reads_as_go_does")]
    [TestCase("{}", 0, 0, 0, "", TestName = "ReadResponse_empty_object_reads_as_go_does")]
    public void ReadResponse_reads_as_go_json_unmarshal(string json, int status, int code, long sentTime, string reason, params string[] data)
    {
        var expected = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in data)
        {
            var parts = entry.Split('=', 2);
            expected.Add(parts[0], parts[1]);
        }

        Assert.That(Fields(RaccoonJson.ReadResponse(Encoding.UTF8.GetBytes(json))), Is.EqualTo((status, code, sentTime, reason, expected)));
    }

    [TestCase("""{"status":"STATUS_SUCCESS"}""", TestName = "ReadResponse_enum_name_throws_FormatException")]
    [TestCase("""{"data":{"req_guid":1}}""", TestName = "ReadResponse_number_in_data_throws_FormatException")]
    [TestCase("""{"sent_time":"1"}""", TestName = "ReadResponse_quoted_sent_time_throws_FormatException")]
    [TestCase("""{"sent_time":1.5}""", TestName = "ReadResponse_fractional_sent_time_throws_FormatException")]
    [TestCase("""{"code":3000000000}""", TestName = "ReadResponse_code_out_of_int32_throws_FormatException")]
    [TestCase("[]", TestName = "ReadResponse_array_throws_FormatException")]
    [TestCase("""{"status":1} x""", TestName = "ReadResponse_trailing_content_throws_FormatException")]
    [TestCase("""{"status":1,}""", TestName = "ReadResponse_trailing_comma_throws_FormatException")]
    [TestCase("""{/* c */}""", TestName = "ReadResponse_comment_throws_FormatException")]
    [TestCase("", TestName = "ReadResponse_empty_body_throws_FormatException")]
    public void ReadResponse_malformed_input_throws_FormatException(string json)
    {
        Assert.That(
            () => RaccoonJson.ReadResponse(Encoding.UTF8.GetBytes(json)),
            Throws.InstanceOf<FormatException>().With.Message.StartsWith("Invalid Raccoon JSON response"));
    }

    [Test]
    public void ReadResponse_invalid_utf8_throws_FormatException()
    {
        byte[] body = [.. "{\"reason\":\""u8, 0xC3, 0x28, .. "\"}"u8];

        Assert.That(() => RaccoonJson.ReadResponse(body), Throws.InstanceOf<FormatException>());
    }

    private static string Write(Guid requestGuid, DateTimeOffset sentTime, EventEnvelope[] events)
    {
        var buffer = new ArrayBufferWriter<byte>();
        RaccoonJson.WriteRequest(buffer, requestGuid, sentTime, events);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string ReferenceJson(Guid requestGuid, DateTimeOffset sentTime, EventEnvelope[] events)
    {
        var request = new Reference.SendEventRequest
        {
            ReqGuid = requestGuid.ToString(),
            SentTime = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(sentTime),
        };
        foreach (var e in events)
        {
            request.Events.Add(new Reference.Event { EventBytes = ByteString.CopyFrom(e.Bytes), Type = e.TypeInfo.Type });
        }

        var buffer = new ArrayBufferWriter<byte>();
        Reference.RaccoonJson.WriteRequest(request, buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static (int Status, int Code, long SentTime, string Reason, SortedDictionary<string, string> Data) Fields(SendEventResponse r) =>
        ((int)r.Status, (int)r.Code, r.SentTime, r.Reason, new SortedDictionary<string, string>(r.Data, StringComparer.Ordinal));

    private static (int Status, int Code, long SentTime, string Reason, SortedDictionary<string, string> Data) Fields(Reference.SendEventResponse r) =>
        ((int)r.Status, (int)r.Code, r.SentTime, r.Reason, new SortedDictionary<string, string>(r.Data, StringComparer.Ordinal));
}
