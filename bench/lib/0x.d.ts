/**
 * Types for npm `0x` 6.0.0 (it ships none): only the call bench/lib/flamegraph.ts makes, drawing an existing
 * V8 .cpuprofile (0x --visualize-cpu-profile) without running or profiling anything.
 */
declare module '0x' {
  export interface ZeroEksOptions {
    /** the .cpuprofile to draw */
    visualizeCpuProfile: string;
    /** where the HTML page goes (absolute, or relative to workingDir) */
    outputHtml: string;
    name?: string;
    /** shown at the top of the page */
    title?: string;
    workingDir: string;
    /** progress lines (default: none) */
    status?: (line: string) => void;
  }

  /** resolves with the page's file:// URL */
  export default function zeroEks(options: ZeroEksOptions): Promise<string | null>;
}
