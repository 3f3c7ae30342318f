/**
 * Draws up to hundreds of thousands of round points with WebGL 1, in one draw call per layer.
 *
 * Written here rather than with regl-scatterplot because regl compiles its draw commands with
 * `new Function`, which the app's Content-Security-Policy (`script-src 'self'`, no 'unsafe-eval')
 * refuses; this renderer needs no code generation.
 *
 * Positions are in map space ([-1, 1] on the longer side); a `View` maps them to the canvas.
 */
export interface View {
  /** Zoom (1: the map's [-1, 1] spans the canvas's shorter side). */
  readonly zoom: number;
  /** Pan in CSS pixels. */
  readonly panX: number;
  readonly panY: number;
}

/** The whole map with a margin, so that the outermost points are not cut by the canvas's edges. */
export const WHOLE_MAP: View = { zoom: 0.94, panX: 0, panY: 0 };

/**
 * The map point under a canvas point (CSS pixels) on a canvas of width × height. A map point (x, y)
 * is drawn at (width / 2 + x · unit + panX, height / 2 − y · unit + panY), unit = zoom · min(width, height) / 2.
 */
export function toMap(view: View, width: number, height: number, sx: number, sy: number): [number, number] {
  const unit = (Math.min(width, height) / 2) * view.zoom;
  return [(sx - width / 2 - view.panX) / unit, -(sy - height / 2 - view.panY) / unit];
}

const VERTEX = `
attribute vec2 position;
attribute vec4 colour;
attribute float size;
uniform vec2 scale;
uniform vec2 offset;
uniform float pixelRatio;
varying vec4 vColour;
void main() {
  gl_Position = vec4(position * scale + offset, 0.0, 1.0);
  gl_PointSize = size * pixelRatio;
  vColour = colour;
}`;

const FRAGMENT = `
precision mediump float;
varying vec4 vColour;
void main() {
  vec2 c = gl_PointCoord * 2.0 - 1.0;
  if (dot(c, c) > 1.0) discard;
  gl_FragColor = vec4(vColour.rgb * vColour.a, vColour.a);
}`;

/** One set of points drawn together: positions, RGBA colours (bytes) and sizes (CSS pixels). */
export interface Layer {
  readonly positions: Float32Array;
  readonly colours: Uint8Array;
  readonly sizes: Float32Array;
}

interface Buffers {
  readonly position: WebGLBuffer;
  readonly colour: WebGLBuffer;
  readonly size: WebGLBuffer;
  count: number;
}

export class PointsGl {
  private readonly gl: WebGLRenderingContext;
  private readonly program: WebGLProgram;
  private readonly layers: Buffers[] = [];
  private readonly location: { position: number; colour: number; size: number };
  private readonly uniforms: {
    scale: WebGLUniformLocation;
    offset: WebGLUniformLocation;
    pixelRatio: WebGLUniformLocation;
  };

  constructor(canvas: HTMLCanvasElement, layers: number) {
    const gl = canvas.getContext('webgl', { antialias: true, premultipliedAlpha: true, preserveDrawingBuffer: true });
    if (gl === null) throw new Error('This browser has no WebGL, which the map needs.');
    this.gl = gl;
    this.program = link(gl, compile(gl, gl.VERTEX_SHADER, VERTEX), compile(gl, gl.FRAGMENT_SHADER, FRAGMENT));
    const attribute = (name: string) => gl.getAttribLocation(this.program, name);
    this.location = { position: attribute('position'), colour: attribute('colour'), size: attribute('size') };
    const uniform = (name: string) => gl.getUniformLocation(this.program, name) as WebGLUniformLocation;
    this.uniforms = { scale: uniform('scale'), offset: uniform('offset'), pixelRatio: uniform('pixelRatio') };
    for (let k = 0; k < layers; k++) {
      const buffer = () => gl.createBuffer() as WebGLBuffer;
      this.layers.push({ position: buffer(), colour: buffer(), size: buffer(), count: 0 });
    }
  }

  /** Replaces a layer's points (layers are drawn in order, later ones on top). */
  setLayer(index: number, layer: Layer): void {
    const { gl } = this;
    const buffers = this.layers[index] as Buffers;
    gl.bindBuffer(gl.ARRAY_BUFFER, buffers.position);
    gl.bufferData(gl.ARRAY_BUFFER, layer.positions, gl.STATIC_DRAW);
    gl.bindBuffer(gl.ARRAY_BUFFER, buffers.colour);
    gl.bufferData(gl.ARRAY_BUFFER, layer.colours, gl.STATIC_DRAW);
    gl.bindBuffer(gl.ARRAY_BUFFER, buffers.size);
    gl.bufferData(gl.ARRAY_BUFFER, layer.sizes, gl.STATIC_DRAW);
    buffers.count = layer.sizes.length;
  }

  /** Draws every layer under a view, on a background (CSS colour `#rrggbb`). */
  draw(view: View, background: string): void {
    const { gl } = this;
    const canvas = gl.canvas as HTMLCanvasElement;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }
    gl.viewport(0, 0, canvas.width, canvas.height);
    const [r, g, b] = rgb(background);
    gl.clearColor(r / 255, g / 255, b / 255, 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
    gl.useProgram(this.program);
    const unit = (Math.min(width, height) / 2) * view.zoom;
    gl.uniform2f(this.uniforms.scale, (2 * unit) / width, (2 * unit) / height);
    gl.uniform2f(this.uniforms.offset, (2 * view.panX) / width, (-2 * view.panY) / height);
    gl.uniform1f(this.uniforms.pixelRatio, ratio);
    for (const layer of this.layers) {
      if (layer.count === 0) continue;
      this.bind(layer.position, this.location.position, 2, gl.FLOAT, false);
      this.bind(layer.colour, this.location.colour, 4, gl.UNSIGNED_BYTE, true);
      this.bind(layer.size, this.location.size, 1, gl.FLOAT, false);
      gl.drawArrays(gl.POINTS, 0, layer.count);
    }
  }

  private bind(buffer: WebGLBuffer, location: number, size: number, type: number, normalized: boolean): void {
    const { gl } = this;
    gl.bindBuffer(gl.ARRAY_BUFFER, buffer);
    gl.enableVertexAttribArray(location);
    gl.vertexAttribPointer(location, size, type, normalized, 0, 0);
  }

  /** Frees the GPU's buffers and program. */
  dispose(): void {
    const { gl } = this;
    for (const layer of this.layers) for (const b of [layer.position, layer.colour, layer.size]) gl.deleteBuffer(b);
    gl.deleteProgram(this.program);
  }
}

function compile(gl: WebGLRenderingContext, type: number, source: string): WebGLShader {
  const shader = gl.createShader(type) as WebGLShader;
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(shader) ?? 'shader');
  return shader;
}

function link(gl: WebGLRenderingContext, vertex: WebGLShader, fragment: WebGLShader): WebGLProgram {
  const program = gl.createProgram() as WebGLProgram;
  gl.attachShader(program, vertex);
  gl.attachShader(program, fragment);
  gl.linkProgram(program);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(program) ?? 'program');
  return program;
}

/** `#rrggbb` as bytes (anything else: mid grey). */
export function rgb(hex: string): [number, number, number] {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex.trim());
  return match ? ([1, 2, 3].map((k) => parseInt(match[k] as string, 16)) as [number, number, number]) : [128, 128, 128];
}
