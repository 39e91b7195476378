# Hostile inputs through the cmdlets (docs/robustness.md): the user's shell survives, the error names the file and is
# fast, and nothing already written changes. The files are made here.
BeforeAll {
    Import-Module $env:TACOTRON_MODULE_PATH -Force

    function New-ZipPt([string] $Path, [byte[]] $Pickle) {
        Add-Type -AssemblyName System.IO.Compression
        $fs = [IO.File]::Create($Path)
        try {
            $zip = [IO.Compression.ZipArchive]::new($fs, [IO.Compression.ZipArchiveMode]::Create)
            $s = $zip.CreateEntry('archive/data.pkl', [IO.Compression.CompressionLevel]::NoCompression).Open()
            $s.Write($Pickle, 0, $Pickle.Length); $s.Dispose(); $zip.Dispose()
        } finally { $fs.Dispose() }
    }
}

Describe 'Hostile config files' {
    It 'refuses a 50 000-deep YAML with ConfigInvalid naming the line, and the shell lives on' {
        $path = Join-Path $TestDrive 'deep.yaml'
        Set-Content -Path $path -Value ('training: ' + ('[' * 50000) + (']' * 50000)) -NoNewline
        $clock = [Diagnostics.Stopwatch]::StartNew()
        { Start-TacotronTraining -Config $path -RunsRoot (Join-Path $TestDrive 'runs') } |
            Should -Throw -ErrorId 'ConfigInvalid,*' -ExpectedMessage 'deep.yaml:1:*nested more than 64 levels*'
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
        Test-Path (Join-Path $TestDrive 'runs') | Should -BeFalse
    }

    It 'refuses an alias bomb' {
        $lines = @('a0: &a0 [x, x, x, x, x, x, x, x, x, x]')
        foreach ($i in 1..9) { $lines += "a$($i): &a$($i) [" + ((1..10 | ForEach-Object { "*a$($i - 1)" }) -join ', ') + ']' }
        $path = Join-Path $TestDrive 'bomb.yaml'
        Set-Content -Path $path -Value $lines
        { Start-TacotronTraining -Config $path -RunsRoot (Join-Path $TestDrive 'runs') } |
            Should -Throw -ErrorId 'ConfigInvalid,*' -ExpectedMessage 'bomb.yaml:*YAML nodes*'
    }
}

Describe 'Hostile PyTorch files' {
    It 'a zip whose pickle declares a 2 GB string is CheckpointCorrupt, fast, and nothing is written' {
        $path = Join-Path $TestDrive 'bigstring.pt'
        New-ZipPt $path ([byte[]] (0x80, 2, [byte][char]'X', 0xff, 0xff, 0xff, 0x7f, [byte][char]'.'))
        $before = Get-ChildItem $TestDrive | Select-Object -ExpandProperty Name
        $clock = [Diagnostics.Stopwatch]::StartNew()
        { Import-TacotronCheckpoint -Path $path -ErrorAction Stop } | Should -Throw -ErrorId 'CheckpointCorrupt,*' -ExpectedMessage '*bigstring.pt*'
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 30   # includes starting the engine process
        Get-ChildItem $TestDrive | Select-Object -ExpandProperty Name | Should -Be $before
    }

    It 'a legacy file whose state dict is a list that contains itself is CheckpointCorrupt' {
        $path = Join-Path $TestDrive 'cycle.pt'
        [byte[]] $bytes = @(0x80, 2, 0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e) +
            @(0x80, 2, 0x4d, 0xe9, 0x03, 0x2e) + @(0x80, 2, 0x7d, 0x2e) +
            @(0x80, 2, 0x7d, 0x8c, 10) + [Text.Encoding]::ASCII.GetBytes('state_dict') + @(0x5d, 0x71, 0, 0x68, 0, 0x61, 0x73, 0x2e) +
            @(0x80, 2, 0x5d, 0x2e)
        [IO.File]::WriteAllBytes($path, $bytes)
        { Import-TacotronCheckpoint -Path $path -ErrorAction Stop } | Should -Throw -ErrorId 'CheckpointCorrupt,*' -ExpectedMessage '*contains itself*'
        Test-Path ([IO.Path]::ChangeExtension($path, '.ckpt')) | Should -BeFalse
    }
}

Describe 'Paths with odd characters' {
    BeforeAll {
        . (Join-Path $PSScriptRoot 'TinyRun.ps1')
        # Four rows of the demo corpus in a folder of the given name: metadata.csv and wavs/ (copied byte for byte).
        function New-OddCorpus([string] $Name) {
            $dir = [IO.Path]::Combine($TestDrive, $Name)
            [IO.Directory]::CreateDirectory([IO.Path]::Combine($dir, 'wavs')) | Out-Null
            $rows = @([IO.File]::ReadAllLines((Join-Path $Corpus 'metadata.csv')) | Select-Object -First 4)
            [IO.File]::WriteAllLines([IO.Path]::Combine($dir, 'metadata.csv'), $rows)
            foreach ($id in $rows | ForEach-Object { ($_ -split '\|')[0] }) {
                [IO.File]::Copy((Join-Path $Corpus "wavs/$id.wav"), [IO.Path]::Combine($dir, 'wavs', "$id.wav"))
            }
            $dir
        }
    }

    # [brackets] are PowerShell wildcards for -Path parameters; a leading dash looks like an option to a native parser.
    It 'Test-TacotronDataset reads a corpus in <Name>' -ForEach @(
        @{ Name = 'with space' }, @{ Name = "quote'single" }, @{ Name = 'quote"double' }, @{ Name = 'ünïcødé 声音' },
        @{ Name = '-leading-dash' }, @{ Name = '[brackets]' }, @{ Name = 'star*and?' }, @{ Name = 'back`tick $dollar' }
    ) {
        $dir = New-OddCorpus $Name
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $out = @(Test-TacotronDataset -Path $dir -ErrorAction Stop -WarningAction SilentlyContinue)
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 30
        $summary = $out | Where-Object { $_.PSObject.Properties['UsableRows'] }
        $summary.UsableRows | Should -Be 4
    }

    It 'trains, lists and reads a run whose config, corpus, runs root and name all have odd characters' -Skip:(-not $IsLinux) {
        $corpus = New-OddCorpus "[corpus] 'q' ü -x"
        $root = [IO.Path]::Combine($TestDrive, 'runs [root] "dq"')
        $config = [IO.Path]::Combine($TestDrive, '-cfg [x] ü.yaml')
        New-TinyConfig ([IO.Path]::Combine($TestDrive, 'plain.yaml')) -MaxSteps 2 -TensorBoard $false | Out-Null
        $yaml = [IO.File]::ReadAllText([IO.Path]::Combine($TestDrive, 'plain.yaml')).Replace("path: $Corpus", "path: '$($corpus.Replace("'", "''"))'")
        [IO.File]::WriteAllText($config, $yaml)
        $name = '-run [1] ü'
        $run = Start-TacotronTraining -Config $config -RunsRoot $root -Run $name -ErrorAction Stop 6>$null
        $run.Status | Should -Be 'Completed'
        @(Get-TrainingMetrics -Run $name -RunsRoot $root).Step | Should -Be @(1, 2)
        (Get-TacotronRun -RunsRoot $root).Run | Should -Be $name
        @(Get-TacotronCheckpoint -Run $name -RunsRoot $root -Verify).Verified | Sort-Object -Unique | Should -Be 'Verified'
    }
}

Describe 'A second engine on a running run' -Skip:(-not $IsLinux) {
    BeforeAll { . (Join-Path $PSScriptRoot 'TinyRun.ps1') }
    AfterAll {
        foreach ($f in 'supervisor.lock', 'engine.lock') {
            $lock = Join-Path $TestDrive "runs/busy/$f"
            if (Test-Path $lock) { & /usr/bin/kill -s KILL -- (Get-Content $lock -Raw | ConvertFrom-Json).pid 2>$null }
        }
    }

    It 'is refused with RunLocked naming the supervisor that holds the run, and nothing of the run is overwritten' {
        $runs = Join-Path $TestDrive 'runs'
        $config = New-TinyConfig (Join-Path $TestDrive 'busy.yaml') -MaxSteps 100000 -TensorBoard $false
        Start-TacotronTraining -Config $config -RunsRoot $runs -Run busy -Detached | Out-Null
        $dir = Join-Path $runs 'busy'
        $supervisor = (Get-Content (Join-Path $dir 'supervisor.lock') -Raw | ConvertFrom-Json).pid
        $configBefore = Get-FileHash (Join-Path $dir 'config.yaml')
        $locksBefore = (Get-Content (Join-Path $dir 'engine.lock') -Raw), (Get-Content (Join-Path $dir 'supervisor.lock') -Raw)
        $clock = [Diagnostics.Stopwatch]::StartNew()
        { Start-TacotronTraining -Config $config -RunsRoot $runs -Run busy -ErrorAction Stop } |
            Should -Throw -ErrorId 'RunLocked,*' -ExpectedMessage "*running supervisor, pid $supervisor*"
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 30
        { Start-TacotronTraining -Config $config -RunsRoot $runs -Run busy -Resume -Detached -ErrorAction Stop } | Should -Throw -ErrorId 'RunLocked,*' -ExpectedMessage "*running supervisor, pid $supervisor*"
        (Get-FileHash (Join-Path $dir 'config.yaml')).Hash | Should -Be $configBefore.Hash
        (Get-Content (Join-Path $dir 'engine.lock') -Raw), (Get-Content (Join-Path $dir 'supervisor.lock') -Raw) | Should -Be $locksBefore
        (Stop-TacotronTraining -Run busy -RunsRoot $runs -TimeoutSeconds 60 -PassThru).Status | Should -Be 'Stopped'
    }
}
