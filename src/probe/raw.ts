/** What ffprobe's JSON gives (`-show_format -show_streams`, packets), and what the JS probes (src/probe/matroska-probe.ts) give in its place. */
export interface RawStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  profile?: string;
  pix_fmt?: string;
  width?: number;
  height?: number;
  coded_width?: number;
  coded_height?: number;
  sample_aspect_ratio?: string;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  nb_frames?: string;
  duration?: string;
  start_time?: string;
  bit_rate?: string;
  sample_rate?: string;
  channels?: number;
  channel_layout?: string;
  disposition?: Record<string, number>;
  tags?: Record<string, string>;
  side_data_list?: Array<{ side_data_type?: string; rotation?: number | string }>;
}

export interface RawFormat {
  format_name?: string;
  duration?: string;
  size?: string;
  bit_rate?: string;
  start_time?: string;
  tags?: Record<string, string>;
}

export interface RawPacket {
  stream_index?: number;
  pts_time?: string;
  duration_time?: string;
  size?: string;
  pos?: string;
  flags?: string;
}
