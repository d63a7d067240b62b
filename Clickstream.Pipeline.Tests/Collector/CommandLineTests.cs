using Clickstream.Collector;

namespace Clickstream.Pipeline.Tests.Collector;

public class CommandLineTests
{
    [Test]
    public void Parse_no_arguments_uses_raccoon_port_on_loopback_without_keeping_events()
    {
        CommandLine.Result result = CommandLine.Parse([]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Error, Is.Null);
            Assert.That(result.Options!.Port, Is.EqualTo(8080));
            Assert.That(result.Options.Host, Is.EqualTo("127.0.0.1"));
            Assert.That(result.Options.KeepEvents, Is.False);
            Assert.That(result.Options.GrpcPort, Is.Null, "gRPC only when asked for");
            Assert.That(result.Options.RequireIdentity, Is.False);
            Assert.That(result.Options.BearerToken, Is.Null);
        }
    }

    [TestCase("--grpc-port", "8081", "--require-identity", "--bearer-token", "t0ken")]
    [TestCase("--grpc-port=8081", "--bearer-token=t0ken", "--require-identity")]
    public void Parse_grpc_port_identity_and_token_give_options(params string[] args)
    {
        CommandLine.Result result = CommandLine.Parse(args);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Error, Is.Null);
            Assert.That(result.Options!.GrpcPort, Is.EqualTo(8081));
            Assert.That(result.Options.RequireIdentity, Is.True);
            Assert.That(result.Options.BearerToken, Is.EqualTo("t0ken"));
        }
    }

    [Test]
    public void Usage_names_every_option()
    {
        Assert.That(
            CommandLine.Usage,
            Does.Contain("--port N").And.Contain("--host ADDRESS").And.Contain("--grpc-port N")
                .And.Contain("--require-identity").And.Contain("--bearer-token T").And.Contain("--help"));
    }

    [TestCase("--port", "9000", "--host", "0.0.0.0")]
    [TestCase("--port=9000", "--host=0.0.0.0")]
    public void Parse_port_and_host_gives_options(params string[] args)
    {
        CommandLine.Result result = CommandLine.Parse(args);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Error, Is.Null);
            Assert.That(result.Options!.Port, Is.EqualTo(9000));
            Assert.That(result.Options.Host, Is.EqualTo("0.0.0.0"));
        }
    }

    [TestCase("--help")]
    [TestCase("-h")]
    public void Parse_help_asks_for_help(string arg)
    {
        Assert.That(CommandLine.Parse([arg]).ShowHelp, Is.True);
    }

    [TestCase(new[] { "--port", "x" }, "--port", TestName = "Parse_port_not_a_number_is_an_error")]
    [TestCase(new[] { "--port", "70000" }, "--port", TestName = "Parse_port_too_large_is_an_error")]
    [TestCase(new[] { "--port", "-1" }, "--port", TestName = "Parse_negative_port_is_an_error")]
    [TestCase(new[] { "--port" }, "--port needs a value", TestName = "Parse_port_without_value_is_an_error")]
    [TestCase(new[] { "--host", "--port", "1" }, "--host needs a value", TestName = "Parse_host_without_value_is_an_error")]
    [TestCase(new[] { "--host", "example.org" }, "Host must be an IP address", TestName = "Parse_host_name_is_an_error")]
    [TestCase(new[] { "--verbose" }, "Unknown argument '--verbose'", TestName = "Parse_unknown_argument_is_an_error")]
    [TestCase(new[] { "--grpc-port", "x" }, "--grpc-port must be a number", TestName = "Parse_grpc_port_not_a_number_is_an_error")]
    [TestCase(new[] { "--grpc-port", "8080" }, "GrpcPort must differ from Port", TestName = "Parse_grpc_port_equal_to_port_is_an_error")]
    [TestCase(new[] { "--bearer-token" }, "--bearer-token needs a value", TestName = "Parse_bearer_token_without_value_is_an_error")]
    [TestCase(new[] { "--require-identity=yes" }, "--require-identity takes no value", TestName = "Parse_require_identity_with_a_value_is_an_error")]
    public void Parse_bad_arguments_is_an_error(string[] args, string expected)
    {
        CommandLine.Result result = CommandLine.Parse(args);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(result.Options, Is.Null);
            Assert.That(result.Error, Does.Contain(expected));
        }
    }
}
