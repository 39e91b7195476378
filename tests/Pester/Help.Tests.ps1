# Every exported command documents itself (as Pester's own Help.Tests.ps1 checks for Pester): a real synopsis, a
# description, every parameter, and examples with code whose commands exist. Examples are parsed, never run.
# The help comes from TacotronRecovery.Cmdlets.dll-Help.xml, which build/New-MamlHelp.ps1 writes at build time.

BeforeDiscovery {
    $module = Import-Module $env:TACOTRON_MODULE_PATH -Force -PassThru
    $script:CommandCases = @($module.ExportedCommands.Values | Sort-Object Name | ForEach-Object { @{ Name = $_.Name } })
}

BeforeAll {
    $script:Module = Import-Module $env:TACOTRON_MODULE_PATH -Force -PassThru
    $script:Exported = @($script:Module.ExportedCommands.Keys)
    $script:CommonParameters = @([System.Management.Automation.PSCmdlet]::CommonParameters) +
    @([System.Management.Automation.PSCmdlet]::OptionalCommonParameters)

    # The names of the commands an example calls, in order (static names only; '& $x' has none).
    function Get-ExampleCommandName([string] $Code) {
        $tokens = $null; $errors = $null
        $ast = [System.Management.Automation.Language.Parser]::ParseInput($Code, [ref] $tokens, [ref] $errors)
        if ($errors) { throw "example does not parse: $($errors[0].Message) in: $Code" }
        $ast.FindAll({ param($node) $node -is [System.Management.Automation.Language.CommandAst] }, $true) |
            Sort-Object { $_.Extent.StartOffset } |
            ForEach-Object { $_.GetCommandName() } |
            Where-Object { $_ }
    }

    function Get-ParaText($Items) { (@($Items | ForEach-Object { $_.Text }) -join ' ').Trim() }
}

Describe 'Module help' {
    It 'has a MAML help file next to the cmdlet assembly' {
        Join-Path $script:Module.ModuleBase 'TacotronRecovery.Cmdlets.dll-Help.xml' | Should -Exist
    }

    It 'exports at least one command' {
        $script:Exported.Count | Should -BeGreaterThan 0
    }

    It '<Name> has a synopsis that is not the generated syntax line' -ForEach $CommandCases {
        $help = Get-Help $Name
        $synopsis = "$($help.Synopsis)".Trim()
        $synopsis | Should -Not -BeNullOrEmpty
        # Without a help file Get-Help makes the synopsis from the syntax: 'Name [-Param] <Type> ... [<CommonParameters>]'.
        $synopsis | Should -Not -BeLike '*`[<CommonParameters>`]*'
        $synopsis | Should -Not -BeLike "$Name *-*"
    }

    It '<Name> has a description' -ForEach $CommandCases {
        Get-ParaText (Get-Help $Name).description | Should -Not -BeNullOrEmpty
    }

    It '<Name> describes every parameter' -ForEach $CommandCases {
        $help = Get-Help $Name
        $documented = @{}
        foreach ($p in @($help.parameters.parameter)) { if ($p) { $documented[[string] $p.name] = Get-ParaText $p.description } }
        $parameters = (Get-Command $Name).Parameters.Keys | Where-Object { $_ -notin $script:CommonParameters }
        $missing = @($parameters | Where-Object { -not $documented[$_] })
        $missing | Should -BeNullOrEmpty -Because "$Name's help should describe -$($missing -join ', -')"
    }

    It '<Name> has at least one example, each with code' -ForEach $CommandCases {
        $examples = @((Get-Help $Name).examples.example | Where-Object { $_ })
        $examples.Count | Should -BeGreaterThan 0
        foreach ($example in $examples) {
            "$($example.code)".Trim() | Should -Not -BeNullOrEmpty -Because "$($example.title.Trim(' -')) of $Name needs code"
        }
    }

    It '<Name> examples call exported commands that exist' -ForEach $CommandCases {
        # The first command of each example must resolve (to an exported command, or to a PowerShell command an
        # example may start with, e.g. Import-Csv ... | Test-LossHealth); every command an example names must
        # resolve; and each example must call at least one exported command.
        foreach ($example in @((Get-Help $Name).examples.example | Where-Object { $_ })) {
            $code = "$($example.code)"
            $names = @(Get-ExampleCommandName $code | Where-Object { $_ -notmatch '[\\/]' })
            $names | Should -Not -BeNullOrEmpty -Because "the example '$code' should call a command"
            foreach ($n in $names) {
                ($n -in $script:Exported -or (Get-Command -Name $n -ErrorAction SilentlyContinue)) |
                    Should -BeTrue -Because "'$n' in the example '$code' should be an exported or existing command"
            }
            @($names | Where-Object { $_ -in $script:Exported }) | Should -Not -BeNullOrEmpty -Because "the example '$code' should use this module"
        }
    }
}
