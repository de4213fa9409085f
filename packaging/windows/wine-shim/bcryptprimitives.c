/*
 * Test-only stand-in for Windows' bcryptprimitives.dll, for Wine versions before 9.0 (Debian 12
 * ships Wine 8.0), which lack the DLL. Rust's standard library (1.78 and later) imports
 * ProcessPrng from it for HashMap seeds and the like, so without it Wine cannot start
 * socketlab.exe at all ("import_dll: Library bcryptprimitives.dll ... not found").
 *
 * packaging/windows/check-wine.sh builds this with MinGW-w64 and copies it into the throwaway
 * Wine prefix it makes, nowhere else: it is never part of the installer or the portable zip,
 * since every Windows that Socket Lab supports (10 and later) has the real DLL.
 *
 * The randomness comes from advapi32's RtlGenRandom (exported as SystemFunction036), which Wine
 * 8.0 has and which draws from the host's system random source, so the program under test gets
 * real random bytes, as it would on Windows.
 */
#include <windows.h>

/* ntsecapi.h declares this as RtlGenRandom behind a macro; declared here by its exported name. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/*
 * Windows documents ProcessPrng as always returning TRUE: callers (Rust's std among them) do
 * not check for failure. SystemFunction036 takes a 32-bit length, so larger requests are served
 * in pieces; should it ever fail, the process is ended rather than handing out predictable bytes.
 */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    const SIZE_T piece = 0x40000000;
    while (length > 0) {
        ULONG now = (ULONG)(length < piece ? length : piece);
        if (!SystemFunction036(data, now)) {
            ExitProcess(0xC0000001u); /* STATUS_UNSUCCESSFUL */
        }
        data += now;
        length -= now;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    (void)instance;
    (void)reason;
    (void)reserved;
    return TRUE;
}
