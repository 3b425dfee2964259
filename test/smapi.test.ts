// The SM API's messages: what a server accepts, and the status every kind of malformed message gets.
import { describe, expect, it } from "vitest";
import { decodeConnectOrRequest, decodeReply, decodeRequest, decodeRequestOrCopyMessage, encodeMessage, MAX_MESSAGE_BYTES, NtStatus, SmApiNumber, SmMessageError, type SessionCopyMessage } from "../src/smapi/index.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const statusOf = (text: string | Uint8Array) => {
  try {
    decodeRequest(typeof text === "string" ? bytes(text) : text);
  } catch (error) {
    if (error instanceof SmMessageError) return error.status;
    throw error;
  }
  return NtStatus.SUCCESS;
};

describe("SM API messages", () => {
  it("round-trips every request and reply", () => {
    const requests = [
      { api: SmApiNumber.SessionComplete, sessionId: 1, status: 0 },
      { api: SmApiNumber.ExecPgm, sessionId: 0, commandLine: "\\SystemRoot\\System32\\cmd.exe /c ver" },
      { api: SmApiNumber.LoadDeferedSubsystem, name: "Posix" },
      { api: SmApiNumber.StartCsr, initialCommand: "winlogon.exe" },
      { api: SmApiNumber.StopCsr, sessionId: 2 },
    ] as const;
    for (const request of requests) expect(decodeRequest(bytes(encodeMessage(request)))).toEqual(request);
    const reply = { status: NtStatus.SUCCESS, sessionId: 2, csrssPid: 40, initialCommandPid: 41 };
    expect(decodeReply(bytes(encodeMessage(reply)))).toEqual(reply);
    const connect = { kind: "connect", subsystem: "Windows", sessionId: 1, sbApiPort: "\\Sessions\\1\\Windows\\SbApiPort" } as const;
    expect(decodeConnectOrRequest(bytes(encodeMessage(connect)))).toEqual(connect);
  });

  it("takes smss86's own messages between the master and its session copies, checking every field", () => {
    const messages: SessionCopyMessage[] = [
      { kind: "await-subsystem", sessionId: 1, subsystem: "Windows" },
      { kind: "session-started", sessionId: 1, subsystems: [{ name: "Windows", pid: 30 }], initialCommand: { image: "/Windows/System32/winlogon.exe", pid: 33 } },
      { kind: "session-started", sessionId: 2, subsystems: [] },
      { kind: "session-failed", sessionId: 2, reason: "csrss ended before it connected" },
      { kind: "critical" },
    ];
    for (const message of messages) expect(decodeRequestOrCopyMessage(bytes(encodeMessage(message)))).toEqual(message);
    const statusOfCopyMessage = (text: string) => {
      try {
        decodeRequestOrCopyMessage(bytes(text));
      } catch (error) {
        if (error instanceof SmMessageError) return error.status;
        throw error;
      }
      return NtStatus.SUCCESS;
    };
    for (const bad of [
      '{"kind":"session-started","sessionId":1,"subsystems":[{"name":"Windows","pid":0}]}',
      '{"kind":"session-started","sessionId":1,"subsystems":"Windows"}',
      '{"kind":"session-started","sessionId":1,"subsystems":[],"initialCommand":{"image":"x"}}',
      '{"kind":"await-subsystem","sessionId":70000,"subsystem":"Windows"}',
      '{"kind":"session-failed","sessionId":1}',
      '{"kind":"nonsense"}',
      // An announcement counts only as a connection's first message.
      '{"kind":"connect","subsystem":"Windows","sessionId":0,"sbApiPort":"\\\\Windows\\\\SbApiPort"}',
    ]) {
      expect(statusOfCopyMessage(bad), bad).toBe(NtStatus.INVALID_PARAMETER);
    }
  });

  it("answers numbers from 7 on with STATUS_NOT_IMPLEMENTED", () => {
    expect(statusOf('{"api":7}')).toBe(NtStatus.NOT_IMPLEMENTED);
    expect(statusOf('{"api":4000000}')).toBe(NtStatus.NOT_IMPLEMENTED);
  });

  it("answers malformed messages with STATUS_INVALID_PARAMETER", () => {
    for (const text of ["", "not json", "[]", "null", "42", '{"api":-1}', '{"api":1.5}', '{"api":"4"}', '{"api":1,"sessionId":1}',
      '{"api":1,"sessionId":-1,"status":0}', '{"api":1,"sessionId":1,"status":4294967296}', '{"api":3,"sessionId":1}',
      '{"api":4}', '{"api":4,"name":""}', `{"api":4,"name":"${"x".repeat(33)}"}`, '{"api":6,"sessionId":"1"}']) {
      expect(statusOf(text), text).toBe(NtStatus.INVALID_PARAMETER);
    }
    expect(statusOf(new Uint8Array(MAX_MESSAGE_BYTES + 1).fill(0x20))).toBe(NtStatus.INVALID_PARAMETER);
    expect(statusOf(Uint8Array.of(0x7b, 0xff, 0xfe, 0x7d))).toBe(NtStatus.INVALID_PARAMETER);
  });

  it("takes LoadDeferedSubsystem names up to 64 bytes of UTF-16, as Windows does", () => {
    expect(statusOf(`{"api":4,"name":"${"x".repeat(32)}"}`)).toBe(NtStatus.SUCCESS);
  });

  it("refuses a connect message without a subsystem or port", () => {
    expect(() => decodeConnectOrRequest(bytes('{"kind":"connect","subsystem":"","sessionId":0,"sbApiPort":"x"}'))).toThrow(SmMessageError);
    expect(() => decodeConnectOrRequest(bytes('{"kind":"connect","subsystem":"Windows","sessionId":0}'))).toThrow(SmMessageError);
  });
});
