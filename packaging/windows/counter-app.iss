; Inno Setup 6 script for the counter application (Windows 10/11, 64-bit).
; Build steps: packaging/windows/BUILDING-WINDOWS.md. In short, on a Windows build PC:
;     py -3.11 -m venv .venv && .venv\Scripts\pip install -e .[dist]
;     .venv\Scripts\python -m PyInstaller --noconfirm --clean build.spec
;     "C:\Program Files (x86)\Inno Setup 6\ISCC.exe" /DAppVersion=0.1.0 packaging\windows\counter-app.iss
; Output: dist\installer\counter-app-setup-<version>.exe
;
; What it does:
; * installs the PyInstaller one-folder bundle (dist\counter-app) into Program Files;
; * Start-menu and optional desktop shortcuts to counter-app.exe (the GUI, no console window);
;   IT's commands use counter-app-cli.exe (same folder, with a console);
; * unattended installs: setup.exe /VERYSILENT /SUPPRESSMSGBOXES /SITECONFIG="\\server\share\site-410702-03.toml"
;   runs "counter-app-cli.exe configure --from <file>" as the user who started setup, after copying;
;   its output goes to %TEMP%\counter-app-configure.log;
; * the window's data (%LOCALAPPDATA%\counter-app: cases, keys, logs, backups) belongs to the service
;   center, not to the installation: uninstalling never deletes it, upgrading never touches it (the
;   program backs the store up and migrates it at its next start).

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "退役军人服务“一件事”综合受理窗口"
#define AppExe "counter-app.exe"
#define CliExe "counter-app-cli.exe"
#define Bundle "..\..\dist\counter-app"

[Setup]
; A fixed AppId keeps upgrades in place (same folder, same uninstall entry). Never change it.
AppId={{7E0F3C52-4C1B-4C9A-9E35-2B1D5A8C6F10}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=河南省退役军人事务厅
DefaultDirName={autopf}\CounterApp
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
OutputDir=..\..\dist\installer
OutputBaseFilename=counter-app-setup-{#AppVersion}
SetupIconFile=..\icons\counter-app.ico
UninstallDisplayIcon={app}\{#AppExe}
Compression=lzma2/max
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
PrivilegesRequired=admin
WizardStyle=modern
; Closing a running window before replacing its files (the Restart Manager asks the app to close).
CloseApplications=yes
RestartApplications=no
MinVersion=10.0

[Languages]
Name: "chs"; MessagesFile: "compiler:Languages\ChineseSimplified.isl"

[Tasks]
Name: "desktopicon"; Description: "在桌面创建快捷方式"; GroupDescription: "快捷方式："

[Files]
; The whole bundle. "ignoreversion": PyInstaller's DLLs carry no reliable version resources.
Source: "{#Bundle}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
Source: "..\site.example.toml"; DestDir: "{app}"; DestName: "site.example.toml"; Flags: ignoreversion

[InstallDelete]
; An upgrade replaces the bundle; stale modules of the previous version must not linger.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"
Name: "{group}\安装自检"; Filename: "{cmd}"; Parameters: "/k ""{app}\{#CliExe}"" selftest"; WorkingDir: "{app}"
Name: "{group}\导出诊断信息到桌面"; Filename: "{cmd}"; Parameters: "/k ""{app}\{#CliExe}"" diagnostics export ""%USERPROFILE%\Desktop\counter-app-diagnostics.zip"""; WorkingDir: "{app}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"; Tasks: desktopicon

[Run]
; Unattended site configuration, as the user who launched setup (their keyring, their data folder).
Filename: "{cmd}"; Parameters: "/c """"{app}\{#CliExe}"" configure --from ""{param:SITECONFIG}"" > ""%TEMP%\counter-app-configure.log"" 2>&1"""; \
    Flags: runhidden runasoriginaluser waituntilterminated; StatusMsg: "正在按站点配置文件配置本窗口…"; Check: HasSiteConfig
Filename: "{app}\{#AppExe}"; Description: "启动{#AppName}"; Flags: nowait postinstall skipifsilent runasoriginaluser

[UninstallDelete]
; Only what the program itself may have written inside its own folder (never the data folder).
Type: filesandordirs; Name: "{app}\_internal\counter_app\store\migrations\versions\__pycache__"

[Code]
function HasSiteConfig(): Boolean;
begin
  Result := ExpandConstant('{param:SITECONFIG|}') <> '';
  if Result and not FileExists(ExpandConstant('{param:SITECONFIG}')) then
  begin
    Log('SITECONFIG file not found: ' + ExpandConstant('{param:SITECONFIG}'));
    if not WizardSilent() then
      MsgBox('找不到站点配置文件：' + ExpandConstant('{param:SITECONFIG}') + #13#10 +
             '程序已安装，请稍后在“开始”菜单中运行首次设置，或执行 counter-app-cli.exe configure --from 文件。',
             mbError, MB_OK);
    Result := False;
  end;
end;
