// DatasetQuant build: ./build.sh --target=<Bootstrap|Build|Test|Publish|Bench|Demo> [--configuration=Release]
// Publish takes --rid=linux-x64|linux-arm64 and --aot. Test and Demo run Bootstrap first, so a fresh machine needs
// nothing else. See docs/building.md.
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

    // tools/dimtrain, the cloud-side generator training, is Python on Debian's python3-torch (/usr/bin/python3,
    // where apt installs it): its short training tests run here too.
    var dimtrainXml = testResults.CombineWithFilePath("dimtrain.junit.xml").FullPath;
    if (Run("/usr/bin/python3", $"-m pytest -q -p no:cacheprovider tests --junitxml={dimtrainXml}", root.FullPath + "/tools/dimtrain") != 0) failures++;

    var totals = new long[4];
    foreach (var trx in GetFiles(testResults.FullPath + "/*.trx"))
    {
        var counters = Regex.Match(System.IO.File.ReadAllText(trx.FullPath), "<Counters [^>]*>");
        long Count(string name) => long.Parse(Regex.Match(counters.Value, $" {name}=\"(\\d+)\"").Groups[1].Value);
        totals[0] += Count("passed");
        totals[1] += Count("failed") + Count("error") + Count("timeout") + Count("aborted");
        totals[2] += Count("notExecuted");
    }

    if (System.IO.File.Exists(dimtrainXml))
    {
        var suite = Regex.Match(System.IO.File.ReadAllText(dimtrainXml), "<testsuite [^>]*>").Value;
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

Task("Publish")
    .Description("Publishes dq, dq-coordinator and dq-agent for --rid under artifacts/publish; --aot makes dq-agent a NativeAOT binary.")
    .IsDependentOn("Bootstrap")
    .Does(() =>
{
    var hosts = new[] { ("src/DatasetQuant.Cli/DatasetQuant.Cli.csproj", false),
                        ("src/DatasetQuant.Coordinator/DatasetQuant.Coordinator.csproj", false),
                        ("src/DatasetQuant.Agent/DatasetQuant.Agent.csproj", true) };
    foreach (var (path, agent) in hosts)
    {
        var project = root.CombineWithFilePath(path);
        if (!FileExists(project)) continue;
        var name = project.GetFilenameWithoutExtension().FullPath.Replace("DatasetQuant.", "").ToLowerInvariant();
        var output = artifacts.Combine($"publish/{rid}/{name}");
        var args = $"publish {project.FullPath} -c {configuration} -r {rid} -o {output}";
        if (agent && aot)
        {
            // Symbols stripped and managed .pdb files left out: DatasetQuant.Agent.csproj, under PublishAot.
            args += " -p:PublishAot=true";
        }
        else
        {
            args += " --self-contained false";
        }

        var (code, log) = Capture("dotnet", args);
        Information(log);
        if (code != 0)
        {
            var missing = Regex.Matches(log, @"Unable to find package ([\w\.\-]+)").Select(m => m.Groups[1].Value.TrimEnd('.')).Distinct().ToArray();
            if (missing.Length > 0)
                throw new CakeException($"Publishing {name} for {rid} needs {string.Join(", ", missing)}, which the package feed here does not have. " +
                    $"Publish for {rid} on a machine whose feed has the .NET runtime and ILCompiler packs for {rid} (see docs/building.md).");
            throw new CakeException($"dotnet publish {name} for {rid} failed (exit {code}).");
        }

        Information("{0} published to {1}", name, output);
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
