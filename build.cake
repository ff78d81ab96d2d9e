// DatasetQuant build: ./build.sh --target=<Bootstrap|Build|Test|Publish|Bench|Demo> [--configuration=Release]
// Publish takes --rid=linux-x64|linux-arm64 and --aot (NativeAOT dq and dq-agent, and the dq-agent .deb).
// Test and Demo run Bootstrap first, so a fresh machine needs nothing else. See docs/building.md.
using System.Text.RegularExpressions;

var target = Argument("target", "Test");
var configuration = Argument("configuration", "Release");
var rid = Argument("rid", "linux-x64");
var aot = HasArgument("aot") && Argument("aot", "true") != "false";
var benchFilter = Argument("filter", "*");

var root = MakeAbsolute(Directory("."));
var solution = root.CombineWithFilePath("DatasetQuant.sln");
var artifacts = root.Combine("artifacts");
var testResults = artifacts.Combine("test-results");

int Run(string tool, string arguments, string workingDirectory = null, IDictionary<string, string> env = null)
{
    var settings = new ProcessSettings { Arguments = arguments, WorkingDirectory = workingDirectory ?? root.FullPath };
    if (env != null) settings.EnvironmentVariables = env;
    return StartProcess(tool, settings);
}

void RunChecked(string tool, string arguments, string workingDirectory = null, IDictionary<string, string> env = null)
{
    var code = Run(tool, arguments, workingDirectory, env);
    if (code != 0) throw new CakeException($"'{tool} {arguments}' exited with {code}.");
}

(int Code, string Output) Capture(string tool, string arguments)
{
    var code = StartProcess(tool, new ProcessSettings { Arguments = arguments, RedirectStandardOutput = true, RedirectStandardError = true },
        out var stdout, out var stderr);
    return (code, string.Join("\n", stdout.Concat(stderr)));
}

bool IsRoot() => Capture("id", "-u").Output.Trim() == "0";

Task("Bootstrap")
    .Description("Installs the Debian packages the tests and the demo need; skips what is present. ONNX Runtime comes from NuGet.")
    .Does(() =>
{
    var wanted = System.IO.File.ReadAllLines(root.CombineWithFilePath("eng/apt-packages.txt").FullPath)
        .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("#")).ToList();
    var missing = wanted.Where(p => !Capture("dpkg-query", $"-W -f=${{Status}} {p}").Output.Contains("install ok installed")).ToList();
    if (missing.Count == 0)
    {
        Information("Debian packages: all {0} present.", wanted.Count);
    }
    else
    {
        Information("Debian packages to install: {0}", string.Join(" ", missing));
        var sudo = IsRoot() ? "" : "sudo ";
        var env = new Dictionary<string, string> { ["DEBIAN_FRONTEND"] = "noninteractive" };
        foreach (var arch in missing.Where(p => p.Contains(':')).Select(p => p.Split(':')[1]).Distinct())
        {
            // arm64 libraries for the emulated board tests come from the same mirrors as a foreign architecture.
            if (!Capture("dpkg", "--print-foreign-architectures").Output.Split('\n').Contains(arch))
                RunChecked("sh", $"-c \"{sudo}dpkg --add-architecture {arch}\"", env: env);
        }

        RunChecked("sh", $"-c \"{sudo}apt-get update -qq\"", env: env);
        RunChecked("sh", $"-c \"{sudo}apt-get install -y -qq --no-install-recommends {string.Join(" ", missing)}\"", env: env);
    }
});

Task("Build")
    .Description("Builds the solution (warnings are errors).")
    .Does(() =>
{
    DotNetBuild(solution.FullPath, new DotNetBuildSettings { Configuration = configuration });
});

Task("Test")
    .Description("Runs every test project, then the SIMD-sensitive tests again with hardware intrinsics off; prints the totals.")
    .IsDependentOn("Bootstrap")
    .IsDependentOn("Build")
    .Does(() =>
{
    CleanDirectory(testResults);

    // The board tests run the arm64 package's dq-agent and dq under qemu-user (tests/DatasetQuant.Integration.Tests/
    // Board): cross-publish both first, and tell the tests that skipping them is a failure here.
    var boardClock = System.Diagnostics.Stopwatch.StartNew();
    PackAgent("linux-arm64", PublishHost("src/DatasetQuant.Agent/DatasetQuant.Agent.csproj", "linux-arm64", true));
    PublishHost("src/DatasetQuant.Cli/DatasetQuant.Cli.csproj", "linux-arm64", true);
    Information("arm64 dq-agent and dq published and packed in {0:F0} s", boardClock.Elapsed.TotalSeconds);
    System.Environment.SetEnvironmentVariable("DQ_BOARD_TESTS", "required");

    var failures = 0;
    void RunTests(string project, string name, string filter, IDictionary<string, string> env)
    {
        var args = $"test {project} -c {configuration} --no-build --logger \"trx;LogFileName={name}.trx\" --results-directory {testResults}";
        if (filter != null) args += $" --filter \"{filter}\"";
        if (Run("dotnet", args, env: env) != 0) failures++;
    }

    foreach (var project in GetFiles(root.FullPath + "/tests/**/*.Tests.csproj").OrderBy(p => p.FullPath))
    {
        RunTests(project.FullPath, project.GetFilenameWithoutExtension().FullPath, null, null);
    }

    // The vectorised decode and pack paths have scalar tails and fallbacks: run those tests with intrinsics off too.
    var scalarEnv = new Dictionary<string, string> { ["DOTNET_EnableHWIntrinsic"] = "0" };
    foreach (var project in GetFiles(root.FullPath + "/tests/**/*.Tests.csproj").OrderBy(p => p.FullPath))
    {
        if (System.IO.File.ReadAllText(project.FullPath).Contains("<HasScalarPathTests>true</HasScalarPathTests>"))
            RunTests(project.FullPath, project.GetFilenameWithoutExtension().FullPath + ".scalar", "Category=Simd", scalarEnv);
    }

    // The Python tools with tests (tools/*/tests: the cloud-side generator training on Debian's python3-torch, and the
    // second reader and device that check docs/format.md and docs/protocol.md are enough to implement them) run on
    // /usr/bin/python3, where apt installs their packages; their tests take the binaries built above.
    var pythonResults = new List<string>();
    foreach (var tool in GetDirectories(root.FullPath + "/tools/*").OrderBy(d => d.FullPath))
    {
        if (!System.IO.Directory.Exists(tool.Combine("tests").FullPath)) continue;
        var xml = testResults.CombineWithFilePath(tool.GetDirectoryName() + ".junit.xml").FullPath;
        pythonResults.Add(xml);
        if (Run("/usr/bin/python3", $"-m pytest -q -p no:cacheprovider tests --junitxml={xml}", tool.FullPath) != 0) failures++;
    }

    var totals = new long[4];
    foreach (var trx in GetFiles(testResults.FullPath + "/*.trx"))
    {
        var counters = Regex.Match(System.IO.File.ReadAllText(trx.FullPath), "<Counters [^>]*>");
        long Count(string name) => long.Parse(Regex.Match(counters.Value, $" {name}=\"(\\d+)\"").Groups[1].Value);
        totals[0] += Count("passed");
        totals[1] += Count("failed") + Count("error") + Count("timeout") + Count("aborted");
        totals[2] += Count("notExecuted");
    }

    foreach (var xml in pythonResults.Where(System.IO.File.Exists))
    {
        var suite = Regex.Match(System.IO.File.ReadAllText(xml), "<testsuite [^>]*>").Value;
        long Junit(string name) => long.Parse(Regex.Match(suite, $" {name}=\"(\\d+)\"").Groups[1].Value);
        var bad = Junit("failures") + Junit("errors");
        totals[0] += Junit("tests") - bad - Junit("skipped");
        totals[1] += bad;
        totals[2] += Junit("skipped");
    }

    var summary = $"{totals[0]} passed, {totals[1]} failed, {totals[2]} skipped";
    System.IO.File.WriteAllText(testResults.CombineWithFilePath("summary.txt").FullPath, summary + "\n");
    Information(summary);
    if (failures > 0 || totals[1] > 0) throw new CakeException($"{failures} test run(s) failed.");
});

string ProjectVersion() =>
    XmlPeek(root.CombineWithFilePath("Directory.Build.props"), "/Project/PropertyGroup/Version");

string DebianArchitecture(string runtimeId) => runtimeId switch
{
    "linux-arm64" => "arm64",
    "linux-x64" => "amd64",
    _ => throw new CakeException($"No Debian package for --rid={runtimeId}: linux-arm64 or linux-x64."),
};

/// <summary>artifacts/dq-agent_VERSION_ARCH.deb from a NativeAOT publish folder (eng/deb/build-deb.sh).</summary>
FilePath PackAgent(string runtimeId, DirectoryPath published)
{
    var (code, log) = Capture("bash", $"eng/deb/build-deb.sh {published.FullPath} {DebianArchitecture(runtimeId)} {ProjectVersion()} {artifacts.FullPath}");
    if (code != 0) throw new CakeException($"Packing dq-agent for {runtimeId} failed (exit {code}):\n{log}");
    var deb = new FilePath(log.Trim().Split('\n').Last());
    Information("{0}: {1:N0} bytes (binary {2:N0} bytes)", deb, new System.IO.FileInfo(deb.FullPath).Length,
        new System.IO.FileInfo(published.CombineWithFilePath("dq-agent").FullPath).Length);
    return deb;
}

/// <summary>
/// Publishes one host for a RID under artifacts/publish/RID/NAME; with <paramref name="nativeAot"/> a trimmed NativeAOT
/// binary (a linux-arm64 one is cross-linked on x64 with clang and lld: Directory.Build.props).
/// </summary>
DirectoryPath PublishHost(string projectPath, string runtimeId, bool nativeAot)
{
    var project = root.CombineWithFilePath(projectPath);
    var name = project.GetFilenameWithoutExtension().FullPath.Replace("DatasetQuant.", "").ToLowerInvariant();
    var output = artifacts.Combine($"publish/{runtimeId}/{name}");
    CleanDirectory(output); // a NativeAOT folder and a framework-dependent one must not mix
    // Symbols stripped and managed .pdb files left out under PublishAot: DatasetQuant.Agent.csproj.
    var args = $"publish {project.FullPath} -c {configuration} -r {runtimeId} -o {output}"
        + (nativeAot ? " -p:PublishAot=true" : " --self-contained false");
    var clock = System.Diagnostics.Stopwatch.StartNew();
    var (code, log) = Capture("dotnet", args);
    Information(log);
    if (code != 0)
    {
        var missing = Regex.Matches(log, @"Unable to find package ([\w\.\-]+)").Select(m => m.Groups[1].Value.TrimEnd('.')).Distinct().ToArray();
        if (missing.Length > 0)
            throw new CakeException($"Publishing {name} for {runtimeId} needs {string.Join(", ", missing)}, which the package feed here does not have. " +
                $"Publish for {runtimeId} on a machine whose feed has the .NET runtime and ILCompiler packs for {runtimeId} (see docs/building.md).");
        throw new CakeException($"dotnet publish {name} for {runtimeId} failed (exit {code}).");
    }

    // Trim and AOT analysis speaks as warnings during publish; a binary for boards is published with none.
    var warnings = Regex.Matches(log, @"warning (IL\d+|CS\d+)[^\n]*").Select(m => m.Value).Distinct().ToArray();
    if (warnings.Length > 0)
        throw new CakeException($"dotnet publish {name} for {runtimeId} gave {warnings.Length} warning(s):\n{string.Join("\n", warnings)}");

    Information("{0} published to {1} in {2:F0} s", name, output, clock.Elapsed.TotalSeconds);
    return output;
}

Task("Publish")
    .Description("Publishes dq, dq-coordinator and dq-agent for --rid under artifacts/publish; --aot makes dq and dq-agent NativeAOT binaries and packs artifacts/dq-agent_VERSION_ARCH.deb.")
    .IsDependentOn("Bootstrap")
    .Does(() =>
{
    PublishHost("src/DatasetQuant.Cli/DatasetQuant.Cli.csproj", rid, aot);
    PublishHost("src/DatasetQuant.Coordinator/DatasetQuant.Coordinator.csproj", rid, false);
    var agent = PublishHost("src/DatasetQuant.Agent/DatasetQuant.Agent.csproj", rid, aot);
    if (aot)
    {
        PackAgent(rid, agent);
    }
});

Task("Bench")
    .Description("Runs the BenchmarkDotNet suite (--filter=<glob> selects benchmarks).")
    .Does(() =>
{
    RunChecked("dotnet", $"run -c Release --project tests/DatasetQuant.Benchmarks -- --filter \"{benchFilter}\" --artifacts {artifacts.Combine("benchmarks")}");
});

Task("Demo")
    .Description("The end-to-end demo on Fashion-MNIST (see README.md).")
    .IsDependentOn("Bootstrap")
    .IsDependentOn("Build")
    .Does(() =>
{
    RunChecked("bash", "eng/demo.sh", env: new Dictionary<string, string> { ["DQ_CONFIGURATION"] = configuration });
});

Task("Default").IsDependentOn("Test");

RunTarget(target);
